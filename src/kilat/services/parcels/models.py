"""Parcels tables. The append-only streams (``shipment_events``, ``courier_location_events``,
``ad_impressions``, ``webhook_events``) are keyed by (id, time) so PostgreSQL can partition them
by time; nothing holds a foreign key into them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.idempotency import idempotency_table
from kilat.platform.models import Entity, UTCDateTime, VersionMixin, service_base, utcnow

Base = service_base("parcels")
metadata = Base.metadata
idempotency_table(metadata)


class Customer(Base, VersionMixin):
    __tablename__ = "customers"
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="en")
    city: Mapped[str] = mapped_column(String(100), default="")
    segment: Mapped[str] = mapped_column(String(32), default="regular")
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DeliveryAddress(Base, Entity):
    __tablename__ = "delivery_addresses"
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    label: Mapped[str] = mapped_column(String(60), default="")
    line1: Mapped[str] = mapped_column(String(300))
    line2: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Courier(Base, VersionMixin):
    __tablename__ = "couriers"
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    vehicle_type: Mapped[str] = mapped_column(String(20))
    vehicle_plate: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="offline")
    last_latitude: Mapped[float | None] = mapped_column(Float)
    last_longitude: Mapped[float | None] = mapped_column(Float)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CourierShift(Base):
    """Online/offline switches: a report's utilisation counts the couriers who were online."""

    __tablename__ = "courier_shift_logs"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    courier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (Index("ix_courier_shift_logs_at", "at"),)


class Order(Base, Entity, VersionMixin):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_status_created", "status", "created_at"),
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    payment_status: Mapped[str] = mapped_column(String(20), default="unpaid")
    service_level: Mapped[str] = mapped_column(String(10))
    source_channel: Mapped[str] = mapped_column(String(10), default="web")
    pickup: Mapped[dict] = mapped_column(JSON)
    dropoff: Mapped[dict] = mapped_column(JSON)
    city: Mapped[str] = mapped_column(String(100), default="")
    distance_km: Mapped[float] = mapped_column(Float)
    actual_kg: Mapped[float] = mapped_column(Float)
    volumetric_kg: Mapped[float] = mapped_column(Float)
    chargeable_kg: Mapped[float] = mapped_column(Float)
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    charge_attempt: Mapped[int] = mapped_column(Integer, default=0)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    payment_failure: Mapped[str | None] = mapped_column(String(300))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refund_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrderItem(Base):
    __tablename__ = "order_items"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    weight_kg: Mapped[float] = mapped_column(Float)
    length_cm: Mapped[float] = mapped_column(Float)
    width_cm: Mapped[float] = mapped_column(Float)
    height_cm: Mapped[float] = mapped_column(Float)
    quantity: Mapped[int] = mapped_column(Integer)


class Shipment(Base, Entity, VersionMixin):
    __tablename__ = "shipments"
    __table_args__ = (
        Index("ix_shipments_status_promised", "status", "promised_at"),
        Index("ix_shipments_courier_status", "courier_id", "status"),
    )
    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("orders.id", ondelete="RESTRICT"), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    tracking_number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    city: Mapped[str] = mapped_column(String(100), default="")
    courier_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    pickup_latitude: Mapped[float] = mapped_column(Float)
    pickup_longitude: Mapped[float] = mapped_column(Float)
    dropoff_latitude: Mapped[float] = mapped_column(Float)
    dropoff_longitude: Mapped[float] = mapped_column(Float)
    promised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    in_transit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    proof_photo_key: Mapped[str | None] = mapped_column(String(300))
    proof_photo_url: Mapped[str | None] = mapped_column(String(500))
    failure_reason: Mapped[str | None] = mapped_column(String(300))


class Assignment(Base, Entity):
    """A courier's hold on a shipment; at most one open (``ended_at IS NULL``) per shipment."""

    __tablename__ = "courier_assignments"
    __table_args__ = (
        Index("uq_courier_assignments_open_shipment", "shipment_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("ix_courier_assignments_active_load", "courier_id", "status",
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
    )
    shipment_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("shipments.id"))
    courier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(12))
    how: Mapped[str] = mapped_column(String(10))  # claim | admin
    schedule_sequence: Mapped[int] = mapped_column(Integer, default=1)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(20))


class RouteStop(Base, Entity):
    __tablename__ = "route_stops"
    __table_args__ = (UniqueConstraint("shipment_id", "position", name="uq_route_stops_position"),)
    shipment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shipments.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    stop_type: Mapped[str] = mapped_column(String(10))  # pickup | dropoff | break | hub
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ShipmentEvent(Base):
    __tablename__ = "shipment_events"
    __table_args__ = (Index("ix_shipment_events_shipment", "shipment_id", "occurred_at"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, default=utcnow)
    shipment_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(20))  # status_update | note | exception | ...
    status: Mapped[str] = mapped_column(String(12))
    actor_role: Mapped[str] = mapped_column(String(12), default="system")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class LocationEvent(Base):
    __tablename__ = "courier_location_events"
    __table_args__ = (Index("ix_courier_location_events_courier", "courier_id", "recorded_at"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    courier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    heading_degrees: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(12), default="foreground")


class LocationHourly(Base):
    __tablename__ = "courier_location_hourly"
    courier_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    fixes: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    min_latitude: Mapped[float] = mapped_column(Float)
    max_latitude: Mapped[float] = mapped_column(Float)
    min_longitude: Mapped[float] = mapped_column(Float)
    max_longitude: Mapped[float] = mapped_column(Float)


class TrackingSession(Base, Entity):
    __tablename__ = "tracking_sessions"
    __table_args__ = (UniqueConstraint("order_id", "session_token",
                                       name="uq_tracking_sessions_order_token"),)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    session_token: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Webhook(Base, Entity, VersionMixin):
    __tablename__ = "webhooks"
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """One event for one webhook (``webhook_events``): retried until delivered or given up."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_due", "status", "next_attempt_at"),
                      Index("ix_webhook_events_webhook", "webhook_id", "created_at"))
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, default=utcnow)
    webhook_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replay_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    delivery_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditLog(Base):
    __tablename__ = "api_audit_logs"
    __table_args__ = (Index("ix_api_audit_logs_target", "table_name", "target_id"),
                      Index("ix_api_audit_logs_created", "created_at"))
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_role: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(60))
    table_name: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)


class FeatureFlag(Base):
    __tablename__ = "feature_flags"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SystemSetting(Base):
    __tablename__ = "system_settings"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ScheduledJob(Base):
    __tablename__ = "scheduled_jobs"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BackgroundJob(Base, Entity):
    __tablename__ = "background_jobs"
    __table_args__ = (Index("ix_background_jobs_due", "queue", "status", "available_at"),)
    queue: Mapped[str] = mapped_column(String(30), default="default")
    name: Mapped[str] = mapped_column(String(60))
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DispatchReport(Base, Entity):
    __tablename__ = "dispatch_reports"
    __table_args__ = (UniqueConstraint("report_date", "kind", name="uq_dispatch_reports_date_kind"),)
    report_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10), default="daily")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    rows: Mapped[list] = mapped_column(JSON, default=list)
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    file_key: Mapped[str | None] = mapped_column(String(300))  # the CSV in blob storage


class ReportRun(Base, Entity):
    __tablename__ = "report_runs"
    report_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("dispatch_reports.id"), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)


class Ad(Base, Entity, VersionMixin):
    __tablename__ = "ads"
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000), default="")
    media_url: Mapped[str | None] = mapped_column(String(2000))
    target_rules: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AdImpression(Base):
    __tablename__ = "ad_impressions"
    __table_args__ = (Index("ix_ad_impressions_ad", "ad_id", "occurred_at"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, default=utcnow)
    ad_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    session_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(10))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
