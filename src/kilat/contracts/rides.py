"""Events the rides service publishes: a request's search, the match both sides confirm, the
ride's steps and its settlement. Amounts are integer IDR (``currency`` says so on every one).

Every event of one request (its offers, the match, the ride) carries ``request_id``, its subject,
so a consumer applies them in order. The money itself moves through ``rides.charge_requested``
(``kilat.contracts.charges``), answered by the payment service.
"""

from __future__ import annotations

import uuid

from kilat.contracts.base import Contract, Time


class RideFact(Contract):
    """Fields every rides event may carry."""

    SUBJECT = "request_id"

    request_id: uuid.UUID
    passenger_id: uuid.UUID
    driver_id: uuid.UUID | None = None
    ride_id: uuid.UUID | None = None
    status: str = ""
    occurred_at: Time | None = None


class RideRequested(RideFact):
    TYPE = "rides.requested"

    pickup_latitude: float
    pickup_longitude: float
    destination_latitude: float
    destination_longitude: float


class RideOffered(RideFact):
    """A request offered to one driver (``driver_id``) until ``expires_at``."""

    TYPE = "rides.offered"

    offer_id: uuid.UUID
    distance_km: float
    expires_at: Time


class RideDriverFound(RideFact):
    """A driver accepted: the driver is claimed; the passenger is asked to confirm."""

    TYPE = "rides.driver_found"

    match_id: uuid.UUID
    vehicle_type: str = ""
    vehicle_plate: str = ""


class RideSearchEnded(RideFact):
    """The search ended without a ride: ``status`` is ``expired`` (nobody accepted in time)."""

    TYPE = "rides.search_expired"

    reason: str = ""


class RideConfirmed(RideFact):
    """The passenger confirmed the driver: the ride exists, the driver heads to the pickup."""

    TYPE = "rides.confirmed"

    match_id: uuid.UUID


class RideCancelled(RideFact):
    TYPE = "rides.cancelled"

    cancelled_by: str = ""  # passenger, driver or system
    reason: str = ""


class RideStarted(RideFact):
    TYPE = "rides.started"

    started_at: Time


class RideArrived(RideFact):
    """The driver ended the trip and set the fare: the passenger is asked to pay."""

    TYPE = "rides.arrived"

    distance_m: int
    fare: int
    adjustment_factor: str
    adjusted_fare: int
    admin_fee: int
    driver_payout: int
    currency: str = "IDR"


class RidePaymentFailed(RideFact):
    """The charge was refused (or the passenger rejected it); the ride waits for another try."""

    TYPE = "rides.payment_failed"

    charge_id: uuid.UUID | None = None
    attempt: int = 0
    reason: str = ""
    adjusted_fare: int = 0
    currency: str = "IDR"


class RideCompleted(RideFact):
    """Paid (or nothing to pay): the driver's payout is on their balance."""

    TYPE = "rides.completed"

    charge_id: uuid.UUID | None = None
    distance_m: int = 0
    adjusted_fare: int = 0
    admin_fee: int = 0
    driver_payout: int = 0
    currency: str = "IDR"
