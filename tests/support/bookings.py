"""A stand-in booking service for tests of the services that read bookings through it."""

from __future__ import annotations

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

from kilat.platform.errors import KilatError
from kilat.platform.runtime import Infrastructure

BOOKINGS = "test_bookings"  # infra.extras key: what the stand-in booking service shows, by id


def stand_in_booking_service(infra: Infrastructure) -> dict[str, dict]:
    """Put a stand-in booking service beside the services of ``infra`` (unless one is there) and
    return the bookings it shows, for the test to fill."""
    bookings = infra.extras.setdefault(BOOKINGS, {})
    infra.service_apps.setdefault("booking", fake_booking_service(infra, bookings))
    return bookings


def fake_booking_service(infra: Infrastructure, bookings: dict[str, dict]) -> FastAPI:
    """GET /api/v1/bookings/{id} as the booking service answers it (owner, runner or admin),
    from ``bookings`` (id -> the booking's fields as its API shows them)."""
    app = FastAPI()

    @app.get("/api/v1/bookings/{booking_id}")
    async def get_booking(booking_id: str, authorization: str = Header("")) -> JSONResponse:
        try:
            caller = infra.verifier.principal(authorization.removeprefix("Bearer "))
        except KilatError:
            return JSONResponse({"success": False, "error": "unauthorized"}, status_code=401)
        booking = bookings.get(booking_id)
        if booking is None:
            return JSONResponse({"success": False, "error": "Booking not found"}, status_code=404)
        if caller.role != "admin" and str(caller.user_id) not in (booking["owner_id"],
                                                                 booking.get("runner_id")):
            return JSONResponse({"success": False, "error": "not your booking"}, status_code=403)
        return JSONResponse({"success": True, "data": booking})

    return app
