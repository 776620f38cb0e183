"""Parcels request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from kilat.platform.schemas import Schema, WebUrl

Strict = ConfigDict(extra="forbid")
Channel = Literal["web", "mobile", "wechat", "system"]


# --- customers and couriers ----------------------------------------------------------------------


class CustomerUpdate(Schema):
    model_config = Strict
    full_name: str | None = Field(None, min_length=1, max_length=200)
    phone: str | None = Field(None, pattern=r"^\+?[0-9 ()-]{6,20}$")
    language: Literal["en", "ms"] | None = None
    city: str | None = Field(None, min_length=1, max_length=100)
    marketing_opt_in: bool | None = None


class Customer(Schema):
    user_id: uuid.UUID
    full_name: str
    email: str | None = None
    phone: str | None = None
    language: str
    city: str
    segment: str
    marketing_opt_in: bool
    erased_at: datetime | None = None
    created_at: datetime


class AddressFields(Schema):
    model_config = Strict
    label: str = Field("", max_length=60)
    line1: str = Field(min_length=1, max_length=300)
    line2: str = Field("", max_length=300)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field("", max_length=20)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    contact_name: str = Field("", max_length=200)
    contact_phone: str = Field("", max_length=32)


class AddressCreate(AddressFields):
    is_default: bool = False


class Address(AddressCreate):
    model_config = ConfigDict(extra="ignore", from_attributes=True)
    id: uuid.UUID
    created_at: datetime


class CourierCreate(Schema):
    model_config = Strict
    vehicle_type: Literal["bicycle", "motorcycle", "car", "van", "truck"]
    vehicle_plate: str = Field(min_length=2, max_length=20, pattern=r"^[A-Za-z0-9 -]+$")


class Courier(Schema):
    user_id: uuid.UUID
    vehicle_type: str
    vehicle_plate: str
    status: str
    last_latitude: float | None = None
    last_longitude: float | None = None
    last_seen_at: datetime | None = None


class LocationIn(Schema):
    model_config = Strict
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(None, gt=0, lt=200, description="0 < accuracy < 200 m")
    speed_kmh: float | None = Field(None, ge=0, le=300)
    heading_degrees: float | None = Field(None, ge=0, lt=360)
    recorded_at: datetime | None = None
    source: Literal["foreground", "background", "manual", "external"] = "foreground"


class LocationAccepted(Schema):
    accepted: bool
    rooms: int = Field(description="live tracking rooms the fix was sent to")


# --- orders --------------------------------------------------------------------------------------


class PlaceIn(Schema):
    """A saved address (``address_id``) or one written out in full."""

    model_config = Strict
    address_id: uuid.UUID | None = None
    line1: str | None = Field(None, min_length=1, max_length=300)
    line2: str = Field("", max_length=300)
    city: str | None = Field(None, min_length=1, max_length=100)
    postal_code: str = Field("", max_length=20)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    contact_name: str = Field("", max_length=200)
    contact_phone: str = Field("", max_length=32)

    @model_validator(mode="after")
    def _one_way(self) -> PlaceIn:
        written = [self.line1, self.city, self.latitude, self.longitude]
        if self.address_id is None and any(v is None for v in written):
            raise ValueError("give address_id, or line1, city, latitude and longitude")
        if self.address_id is not None and any(v is not None for v in written):
            raise ValueError("give address_id or a written address, not both")
        return self


class ItemIn(Schema):
    model_config = Strict
    description: str = Field(min_length=1, max_length=300)
    weight_kg: float = Field(gt=0, le=100)
    length_cm: float = Field(gt=0, le=300)
    width_cm: float = Field(gt=0, le=300)
    height_cm: float = Field(gt=0, le=300)
    quantity: int = Field(1, ge=1, le=100)


class OrderCreate(Schema):
    model_config = Strict
    pickup_address: PlaceIn
    dropoff_address: PlaceIn
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    service_level: Literal["standard", "express"] = "standard"
    source_channel: Channel = "web"


class ShipmentBrief(Schema):
    id: uuid.UUID
    tracking_number: str
    status: str
    courier_id: uuid.UUID | None = None
    promised_at: datetime


class Item(Schema):
    description: str
    weight_kg: float
    length_cm: float
    width_cm: float
    height_cm: float
    quantity: int


class Order(Schema):
    id: uuid.UUID
    customer_id: uuid.UUID
    status: str
    payment_status: str
    service_level: str
    price: int
    currency: str
    distance_km: float
    actual_kg: float
    volumetric_kg: float
    chargeable_kg: float
    pickup: dict[str, Any]
    dropoff: dict[str, Any]
    items: list[Item] = []
    charge_id: uuid.UUID | None = None
    payment_failure: str | None = None
    paid_at: datetime | None = None
    refund_amount: int = 0
    refunded_amount: int = 0
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    created_at: datetime
    shipment: ShipmentBrief


class PayIn(Schema):
    model_config = Strict
    payment_method: str | None = Field(None, min_length=1, max_length=200,
                                       description="a card token; the default card when absent")


class CancelIn(Schema):
    model_config = Strict
    reason: str = Field("", max_length=300)


# --- shipments -----------------------------------------------------------------------------------


class Stop(Schema):
    position: int
    stop_type: str
    latitude: float
    longitude: float
    expected_at: datetime | None = None
    arrived_at: datetime | None = None
    departed_at: datetime | None = None


class RunStop(Stop):
    sequence: int = Field(description="the assignment's place in the courier's run")
    shipment_id: uuid.UUID
    tracking_number: str
    shipment_status: str


class Shipment(Schema):
    id: uuid.UUID
    order_id: uuid.UUID
    tracking_number: str
    status: str
    city: str
    courier_id: uuid.UUID | None = None
    pickup_latitude: float
    pickup_longitude: float
    dropoff_latitude: float
    dropoff_longitude: float
    promised_at: datetime
    offered_at: datetime | None = None
    assigned_at: datetime | None = None
    picked_up_at: datetime | None = None
    in_transit_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    recipient_name: str | None = None
    proof_photo_url: str | None = None
    failure_reason: str | None = None
    stops: list[Stop] = []


class Job(Schema):
    shipment_id: uuid.UUID
    tracking_number: str
    city: str
    pickup_latitude: float
    pickup_longitude: float
    dropoff_latitude: float
    dropoff_longitude: float
    distance_km: float | None = Field(None, description="from the courier's last position")
    promised_at: datetime
    offered_at: datetime | None = None


class AssignIn(Schema):
    model_config = Strict
    courier_id: uuid.UUID


class FailIn(Schema):
    model_config = Strict
    reason: str = Field(min_length=1, max_length=300)


class TimelineEntry(Schema):
    status: str
    kind: str
    occurred_at: datetime


class TimelineDetail(TimelineEntry):
    actor_role: str
    details: dict[str, Any]


class PublicTracking(Schema):
    tracking_number: str
    status: str
    city: str
    promised_at: datetime
    delivered_at: datetime | None = None
    timeline: list[TimelineEntry]


class TrackingSession(Schema):
    id: uuid.UUID
    session_token: uuid.UUID
    tracking_number: str
    expires_at: datetime
    websocket_path: str


# --- webhooks ------------------------------------------------------------------------------------


class WebhookCreate(Schema):
    model_config = Strict
    url: WebUrl
    events: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=20)
    secret: str | None = Field(None, min_length=16, max_length=200)


class Webhook(Schema):
    id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None = None
    created_at: datetime


class WebhookCreated(Webhook):
    secret: str = Field(description="shown once; signs every delivery")


class WebhookDelivery(Schema):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    response_code: int | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    replay_of: uuid.UUID | None = None
    created_at: datetime


class WebhookAttempt(Schema):
    attempt: int
    status: str
    response_code: int | None = None
    error: str | None = None
    duration_ms: int
    at: datetime


# --- admin: audit, flags, settings, jobs, reports, customers --------------------------------------


class AuditEntry(Schema):
    id: uuid.UUID
    created_at: datetime
    actor_id: uuid.UUID | None = None
    actor_role: str
    action: str
    table_name: str
    target_id: str
    request_id: str | None = None
    ip: str | None = None
    changes: dict[str, Any]


class FlagIn(Schema):
    model_config = Strict
    enabled: bool
    conditions: dict[str, Any] = Field(default_factory=dict)
    description: str = Field("", max_length=300)


class Flag(Schema):
    key: str
    enabled: bool
    conditions: dict[str, Any]
    description: str
    updated_at: datetime


class SettingIn(Schema):
    model_config = Strict
    value: dict[str, Any]


class Setting(Schema):
    key: str
    value: dict[str, Any]
    updated_at: datetime


class JobOut(Schema):
    id: uuid.UUID
    queue: str
    name: str
    status: str
    attempt: int
    max_attempts: int
    payload: dict[str, Any]
    result: dict[str, Any] | None = None
    last_error: str | None = None
    available_at: datetime
    finished_at: datetime | None = None
    created_at: datetime


class ReportRequest(Schema):
    model_config = Strict
    date: date


class ReportRow(Schema):
    city: str
    orders: int
    delivered: int
    failed: int
    on_time_percent: float | None = None
    median_pickup_minutes: float | None = None
    median_delivery_minutes: float | None = None
    couriers_online: int | None = Field(None, description="on the all-cities row only")
    couriers_active: int
    courier_utilisation_percent: float | None = None


class Report(Schema):
    report_date: date
    kind: str
    status: str
    generated_at: datetime | None = None
    file_key: str | None = Field(None, description="the CSV file in blob storage")
    rows: list[ReportRow]


class Erased(Schema):
    customer_id: uuid.UUID
    erased_at: datetime
    orders_kept: int
    photos_deleted: int


# --- ads -----------------------------------------------------------------------------------------


class AdCreate(Schema):
    model_config = Strict
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=1000)
    media_url: WebUrl | None = None
    target_rules: dict[str, Any] = Field(default_factory=dict)
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class AdUpdate(Schema):
    model_config = Strict
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, max_length=1000)
    target_rules: dict[str, Any] | None = None
    active: bool | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class Ad(Schema):
    id: uuid.UUID
    title: str
    body: str
    media_url: str | None = None
    target_rules: dict[str, Any]
    active: bool
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    created_at: datetime


class ServedAd(Schema):
    id: uuid.UUID
    title: str
    body: str
    media_url: str | None = None
    impression_id: uuid.UUID
