"""The local read model of bookings: kept from ``booking.*`` events, read through to the booking
service when a request needs a booking whose event is still in flight."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.booking import BookingFact
from kilat.platform.models import utcnow
from kilat.platform.readthrough import from_owner, read_through
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.escrow.repository import EscrowRepository
from kilat.services.payment.models import BookingView


class BookingSnapshot(BookingFact):
    """The booking as the booking service's GET answers it, read in place of its event."""

    final_price_cents: int | None = None


async def apply_booking_fact(session: AsyncSession, fact: BookingFact,
                             as_of: datetime) -> BookingView:
    """Record what a booking event (or a direct read) says, unless newer news is already in."""
    view = await EscrowRepository(session).booking(fact.booking_id)
    if view is None:
        view = BookingView(booking_id=fact.booking_id, owner_id=fact.owner_id, status=fact.status,
                           price_cents=fact.estimated_price_cents or 0,
                           currency=fact.currency or "MYR", as_of=as_of)
        session.add(view)
    elif as_of < view.as_of:
        return view
    _copy(view, fact, as_of)
    await session.flush()
    return view


def _copy(view: BookingView, fact: BookingFact, as_of: datetime) -> None:
    view.as_of = as_of
    view.status = fact.status or view.status
    if "runner_id" in fact.model_fields_set:
        view.runner_id = fact.runner_id
    view.owner_id = fact.owner_id or view.owner_id
    if fact.estimated_price_cents is not None:
        view.price_cents = fact.estimated_price_cents
    final_price = getattr(fact, "final_price_cents", None)
    if final_price is not None:
        view.final_price_cents = final_price
    view.currency = fact.currency or view.currency
    view.booking_number = fact.booking_number or view.booking_number


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
        return await EscrowRepository(session).booking(booking_id) is not None


async def _remember(ctx: PaymentContext, booking: dict[str, Any]) -> bool:
    snapshot = BookingSnapshot.model_validate(
        {**booking, "booking_id": booking["id"], "occurred_at": booking.get("updated_at")})
    try:
        async with ctx.database.session() as session:
            await apply_booking_fact(session, snapshot, snapshot.occurred_at or utcnow())
    except IntegrityError:
        pass  # its event arrived meanwhile and was recorded first
    return True
