"""The local read model of bookings: kept from ``booking.*`` events, filled by a direct read."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.errors import Forbidden, ServiceUnavailable, not_found
from kilat.platform.models import utcnow
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.models import BookingView
from kilat.services.payment.repository import Repository

log = structlog.get_logger(__name__)

# the event may be handled by another instance of this service, which cannot wake us
SAFETY_POLL_SECONDS = 0.25


def as_uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def parse_time(value: Any, default: datetime | None = None) -> datetime:
    if not value:
        return default or utcnow()
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def apply_booking_fact(session: AsyncSession, data: dict[str, Any],
                             as_of: datetime) -> BookingView:
    """Record what a booking event (or a direct read) says, unless newer news is already in."""
    booking_id = uuid.UUID(str(data["booking_id"]))
    view = await Repository(session).booking(booking_id)
    if view is None:
        view = BookingView(booking_id=booking_id, owner_id=as_uuid(data["owner_id"]),
                           status=data["status"],
                           price_cents=data.get("estimated_price_cents") or 0,
                           currency=data.get("currency") or "MYR", as_of=as_of)
        session.add(view)
    elif as_of < view.as_of:
        return view
    _copy(view, data, as_of)
    await session.flush()
    return view


def _copy(view: BookingView, data: dict[str, Any], as_of: datetime) -> None:
    view.as_of = as_of
    view.status = data.get("status") or view.status
    if "runner_id" in data:
        view.runner_id = as_uuid(data["runner_id"])
    if data.get("owner_id"):
        view.owner_id = as_uuid(data["owner_id"])
    if data.get("estimated_price_cents") is not None:
        view.price_cents = int(data["estimated_price_cents"])
    if data.get("final_price_cents") is not None:
        view.final_price_cents = int(data["final_price_cents"])
    view.currency = data.get("currency") or view.currency
    view.booking_number = data.get("booking_number") or view.booking_number


async def ensure_booking(ctx: PaymentContext, booking_id: uuid.UUID,
                         authorization: str | None) -> None:
    """Make sure the read model knows ``booking_id``: ask the booking service or await its event."""
    if await _known(ctx, booking_id):
        return
    data = await _fetch(ctx, booking_id, authorization)
    if data is not None:
        try:
            async with ctx.database.session() as session:
                await apply_booking_fact(session, data, parse_time(data.get("updated_at")))
        except IntegrityError:
            pass  # its event arrived meanwhile and was recorded first
        return
    if not await _await_event(ctx, booking_id, ctx.settings.booking_lookup_wait_seconds):
        raise ServiceUnavailable("booking is not known yet", "the booking service could not be "
                                 "reached and its event has not arrived; retry shortly")


async def _await_event(ctx: PaymentContext, booking_id: uuid.UUID, seconds: float) -> bool:
    """Wait until the booking's event is recorded: woken by this process's consumer, and polled
    now and then for an event another instance handled."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    with ctx.awaiting_booking(booking_id) as arrived:
        while True:
            if await _known(ctx, booking_id):
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            with suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), timeout=min(left, SAFETY_POLL_SECONDS))


async def _known(ctx: PaymentContext, booking_id: uuid.UUID) -> bool:
    async with ctx.database.session(write=False) as session:
        return await Repository(session).booking(booking_id) is not None


async def _fetch(ctx: PaymentContext, booking_id: uuid.UUID,
                 authorization: str | None) -> dict[str, Any] | None:
    headers = {"Authorization": authorization} if authorization else {}
    try:
        client = await ctx.client_for("booking")
        response = await client.get(f"/api/v1/bookings/{booking_id}", headers=headers)
    except httpx.HTTPError as exc:
        log.info("booking service unreachable", booking_id=str(booking_id), error=str(exc))
        return None
    if response.status_code == 404:
        raise not_found("Booking", booking_id)
    if response.status_code == 403:
        raise Forbidden("not your booking")
    if response.status_code != 200:
        return None
    booking = response.json()["data"]
    return {**booking, "booking_id": booking["id"]}
