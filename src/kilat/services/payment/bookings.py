"""The local read model of bookings: kept from ``booking.*`` events, read through to the booking
service when a request needs a booking whose event is still in flight."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.models import utcnow
from kilat.platform.readthrough import from_owner, read_through
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.models import BookingView
from kilat.services.payment.repository import PaymentRepository


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
    view = await PaymentRepository(session).booking(booking_id)
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
    """Make sure the read model knows ``booking_id``: from its event, or else read from the
    booking service with the caller's token (waiting a little for the event when it is down)."""
    await read_through(
        lambda: _known(ctx, booking_id), bool,
        from_owner(ctx.infra, "booking", f"/api/v1/bookings/{booking_id}",
                   authorization=authorization, entity="Booking", entity_id=booking_id,
                   client=lambda: ctx.client_for("booking")),
        lambda booking: _remember(ctx, booking),
        patience=ctx.settings.booking_lookup_wait_seconds)


async def _known(ctx: PaymentContext, booking_id: uuid.UUID) -> bool:
    async with ctx.database.session(write=False) as session:
        return await PaymentRepository(session).booking(booking_id) is not None


async def _remember(ctx: PaymentContext, booking: dict[str, Any]) -> bool:
    try:
        async with ctx.database.session() as session:
            await apply_booking_fact(session, {**booking, "booking_id": booking["id"]},
                                     parse_time(booking.get("updated_at")))
    except IntegrityError:
        pass  # its event arrived meanwhile and was recorded first
    return True
