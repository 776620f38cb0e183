"""Events the booking service publishes: each carries the booking's state after the change."""

from __future__ import annotations

import uuid

from kilat.contracts.base import Contract, Time


class BookingFact(Contract):
    """Fields every ``booking.*`` event carries; owner and runner are identity user ids."""

    SUBJECT = "booking_id"
    FAMILY = "booking"

    booking_id: uuid.UUID
    booking_number: str | None = None
    owner_id: uuid.UUID | None = None
    runner_id: uuid.UUID | None = None
    status: str | None = None
    estimated_price_cents: int | None = None
    currency: str | None = None
    occurred_at: Time | None = None


class BookingRequested(BookingFact):
    TYPE = "booking.requested"

    pet_type: str | None = None
    pet_name: str | None = None
    weight_kg: float | None = None
    pickup_lat: float | None = None
    pickup_lng: float | None = None
    dropoff_lat: float | None = None
    dropoff_lng: float | None = None


class BookingAccepted(BookingFact):
    TYPE = "booking.accepted"

    accepted_at: Time | None = None


class BookingDeclined(BookingFact):
    TYPE = "booking.declined"

    reason: str | None = None
    declined_by: uuid.UUID | None = None


class PetPickedUp(BookingFact):
    TYPE = "booking.pet_picked_up"

    picked_up_at: Time | None = None


class DeliveryConfirmed(BookingFact):
    TYPE = "booking.delivery_confirmed"

    delivered_at: Time | None = None


class BookingCompleted(BookingFact):
    TYPE = "booking.completed"

    final_price_cents: int | None = None


class BookingCancelled(BookingFact):
    TYPE = "booking.cancelled"

    cancelled_by: uuid.UUID | None = None
    cancelled_by_role: str | None = None
    reason: str | None = None
    previous_status: str | None = None
