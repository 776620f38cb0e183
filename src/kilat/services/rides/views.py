"""What the API and the socket frames show of a request, an offer and a ride."""

from __future__ import annotations

from typing import Any

from kilat.services.rides.models import Driver, Offer, Ride, RideRequest


def point(latitude: float, longitude: float) -> dict[str, float]:
    return {"latitude": latitude, "longitude": longitude}


def driver_view(driver: Driver | None) -> dict[str, Any] | None:
    if driver is None:
        return None
    return {"user_id": str(driver.user_id), "vehicle_type": driver.vehicle_type,
            "vehicle_plate": driver.vehicle_plate}


def request_view(request: RideRequest, driver: Driver | None = None) -> dict[str, Any]:
    return {
        "id": str(request.id), "passenger_id": str(request.passenger_id),
        "status": request.status,
        "pickup": point(request.pickup_lat, request.pickup_lng),
        "destination": point(request.destination_lat, request.destination_lng),
        "driver": driver_view(driver) if request.driver_id is not None else None,
        "match_id": _str(request.match_id), "ride_id": _str(request.ride_id),
        "search_expires_at": _time(request.search_expires_at),
        "matched_at": _time(request.matched_at), "ended_at": _time(request.ended_at),
        "cancelled_by": request.cancelled_by, "end_reason": request.end_reason,
        "created_at": _time(request.created_at),
    }


def offer_view(offer: Offer, request: RideRequest) -> dict[str, Any]:
    return {
        "id": str(offer.id), "request_id": str(offer.request_id), "status": offer.status,
        "pickup": point(request.pickup_lat, request.pickup_lng),
        "destination": point(request.destination_lat, request.destination_lng),
        "distance_km": round(offer.distance_km, 3), "expires_at": _time(offer.expires_at),
        "created_at": _time(offer.created_at),
    }


def ride_view(ride: Ride) -> dict[str, Any]:
    factor = ride.adjustment_factor
    return {
        "id": str(ride.id), "request_id": str(ride.request_id), "match_id": str(ride.match_id),
        "passenger_id": str(ride.passenger_id), "driver_id": str(ride.driver_id),
        "status": ride.status,
        "pickup": point(ride.pickup_lat, ride.pickup_lng),
        "destination": point(ride.destination_lat, ride.destination_lng),
        "started_at": _time(ride.started_at), "arrived_at": _time(ride.arrived_at),
        "completed_at": _time(ride.completed_at), "cancelled_at": _time(ride.cancelled_at),
        "cancelled_by": ride.cancelled_by, "distance_m": round(ride.distance_m or 0),
        "currency": ride.currency, "fare": ride.fare,
        "adjustment_factor": None if factor is None else str(factor.normalize()),
        "adjusted_fare": ride.adjusted_fare, "admin_fee": ride.admin_fee,
        "driver_payout": ride.driver_payout, "payment_status": ride.payment_status,
        "payment_attempt": ride.payment_attempt, "charge_id": _str(ride.charge_id),
        "payment_error": ride.payment_error, "paid_at": _time(ride.paid_at),
        "created_at": _time(ride.created_at),
    }


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat()
