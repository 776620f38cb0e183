"""Bookings: made from a hold, an OTP before payment, a charge through the payment service,
confirmation with tickets, cancellation with the refund table."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.charges import ChargeCaptured, ChargeFailed, ChargeRefunded, RefundFailed
from kilat.platform.auth import Principal
from kilat.platform.db import after_commit
from kilat.platform.errors import BadRequest, Conflict, TooManyRequests, not_found
from kilat.platform.events import record_event
from kilat.services.rail import domain, events, tickets
from kilat.services.rail.context import RailContext
from kilat.services.rail.holds import HoldService, seat_ids
from kilat.services.rail.models import Booking, BookingLine, SeatHold, Train
from kilat.services.rail.repository import Bookings, Claims, Timetable
from kilat.services.rail.schemas import BookingCreate

S = domain.BookingStatus
LOST_SEATS = "the seats were taken while the payment was in flight; refunded in full"


class BookingService:
    def __init__(self, session: AsyncSession, context: RailContext) -> None:
        self.session = session
        self.context = context
        self.settings = context.settings
        self.repo = Bookings(session)
        self.claims = Claims(session)
        self.timetable = Timetable(session)
        self.holds = HoldService(session, context)

    async def own(self, user: Principal, booking_id: uuid.UUID, *, lock: bool = False) -> Booking:
        booking = await self.repo.get(booking_id, for_update=lock and self.repo.is_postgres)
        if booking is None or not (booking.user_id == user.user_id or user.is_admin):
            raise not_found("booking", booking_id)
        return booking

    async def create(self, user: Principal, body: BookingCreate, now: datetime) -> Booking:
        """A booking of the held seats, one passenger each, fares from the coaches."""
        hold = await self.holds.own_hold(user, body.hold_id)
        if hold.status != domain.HoldStatus.ACTIVE or hold.expires_at <= now:
            raise Conflict("hold has expired" if hold.status == domain.HoldStatus.ACTIVE
                           else f"hold is {hold.status}")
        if hold.booking_id is not None:
            raise Conflict("hold is already booked")
        held = seat_ids(hold)
        wanted = [p.seat_id for p in body.passengers]
        if sorted(wanted) != sorted(held):
            raise BadRequest("one passenger per held seat",
                             "passengers' seat_ids must be the hold's")
        journey = await self.timetable.get_or_404(hold.journey_id)
        train = await self.timetable.load_or_404(Train, journey.train_id, "train")
        seats = {seat.id: (seat, coach) for seat, coach in
                 await self.timetable.seats_of(train.id, held)}
        stops = await self.timetable.stops({journey.route_id})
        route = {stop.stop_order: stop for stop, _ in stops}
        stations = {stop.station_id: station for stop, station in stops}
        first, last = route[min(route)], route[max(route)]
        booking = Booking(
            id=uuid.uuid4(), user_id=user.user_id, hold_id=hold.id, journey_id=journey.id,
            train_name=train.name, train_number=train.number, journey_date=journey.journey_date,
            from_code=stations[first.station_id].code, to_code=stations[last.station_id].code,
            departure_at=journey.departure_at,
            arrival_at=journey.departure_at + timedelta(minutes=last.arrival_minutes),
            status=S.PENDING_OTP, currency=self.settings.currency, passengers=len(held),
            total_fare=sum(seats[s][1].base_fare for s in held), otp_attempts=0, charge_attempt=0)
        lines = [BookingLine(id=uuid.uuid4(), booking_id=booking.id, journey_id=journey.id,
                             seat_id=p.seat_id, coach_code=seats[p.seat_id][1].code,
                             travel_class=seats[p.seat_id][1].travel_class,
                             seat_number=seats[p.seat_id][0].number,
                             position=seats[p.seat_id][0].position, passenger_name=p.name.strip(),
                             age=p.age, id_number=p.id_number, fare=seats[p.seat_id][1].base_fare,
                             status="pending") for p in body.passengers]
        await self._insert_with_pnr(booking, now)
        self.session.add_all(lines)
        hold.booking_id = booking.id
        await self.claims.attach(hold.id, booking.id)
        code = self._new_code(booking, now)
        await self.session.flush()
        await record_event(self.session, events.created(booking, now))
        await record_event(self.session, events.otp(booking, code, now))
        return booking

    async def _insert_with_pnr(self, booking: Booking, now: datetime) -> None:
        """A PNR and reference never collide silently: a clash draws again."""
        for _ in range(5):
            booking.pnr = domain.new_pnr(now)
            booking.booking_reference = domain.new_booking_reference(now)
            try:
                async with self.session.begin_nested():
                    self.session.add(booking)
                    await self.session.flush()
                return
            except IntegrityError:
                self.session.expunge(booking)
        raise Conflict("could not allocate a PNR", "retry")

    def _new_code(self, booking: Booking, now: datetime) -> str:
        code = domain.new_otp()
        booking.otp_hash = domain.otp_hash(booking.id, code)
        booking.otp_expires_at = now + timedelta(seconds=self.settings.otp_seconds)
        booking.otp_sent_at = now
        booking.otp_attempts = 0
        return code

    async def resend_code(self, user: Principal, booking_id: uuid.UUID, now: datetime) -> Booking:
        booking = await self.own(user, booking_id, lock=True)
        if booking.status != S.PENDING_OTP:
            raise Conflict(f"booking is {booking.status}", "no code is awaited")
        wait = booking.otp_sent_at + timedelta(seconds=self.settings.otp_resend_seconds) - now
        if wait > timedelta(0):
            raise TooManyRequests("code sent recently",
                                  f"ask again in {int(wait.total_seconds()) + 1} s")
        code = self._new_code(booking, now)
        await self.session.flush()
        await record_event(self.session, events.otp(booking, code, now))
        return booking

    async def verify(self, user: Principal, booking_id: uuid.UUID, code: str,
                     now: datetime) -> tuple[Booking, str | None]:
        """(booking, None) when the code is right; (booking, why) after counting a wrong one.
        The caller commits either way, so a wrong attempt is never forgotten."""
        booking = await self.own(user, booking_id, lock=True)
        if booking.status != S.PENDING_OTP:
            raise Conflict(f"booking is {booking.status}", "no code is awaited")
        if booking.otp_attempts >= self.settings.otp_max_attempts:
            raise TooManyRequests("too many wrong codes", "request a new code")
        if booking.otp_expires_at is None or booking.otp_expires_at <= now:
            raise Conflict("code has expired", "request a new code")
        if not domain.otp_matches(booking.id, code, booking.otp_hash):
            booking.otp_attempts += 1
            left = self.settings.otp_max_attempts - booking.otp_attempts
            await self.session.flush()
            return booking, f"{left} attempts left"
        booking.status = S.PENDING_PAYMENT
        booking.otp_hash = None
        await self.session.flush()
        return booking, None

    async def request_charge(self, user: Principal, booking_id: uuid.UUID,
                             now: datetime) -> Booking:
        """Ask the payment service for the fare (an event, in this transaction)."""
        booking = await self.own(user, booking_id, lock=True)
        if booking.status in (S.PAYMENT_PENDING, S.CONFIRMED):
            return booking  # already paying or paid: never a second charge
        if booking.status == S.PENDING_OTP:
            raise Conflict("booking awaits its code", "verify the code sent to you first")
        if booking.status != S.PENDING_PAYMENT:
            raise Conflict(f"booking is {booking.status}")
        hold = await self.claims.load_or_404(SeatHold, booking.hold_id, "hold")
        if hold.status != domain.HoldStatus.ACTIVE or hold.expires_at <= now:
            raise Conflict("hold has expired", "the seats are no longer held")
        deadline = max(hold.expires_at,
                       now + timedelta(seconds=self.settings.payment_window_seconds))
        await self.holds.move_deadline(hold, deadline)
        booking.charge_attempt += 1
        booking.charge_id = domain.charge_id(booking.id, booking.charge_attempt)
        booking.status = S.PAYMENT_PENDING
        booking.failure_reason = None
        await self.session.flush()
        await record_event(self.session, events.charge(booking, now))
        return booking

    async def charge_captured(self, outcome: ChargeCaptured, now: datetime) -> None:
        booking = await self.repo.by_charge(outcome.charge_id)
        if booking is None:
            return
        if booking.status == S.CONFIRMED and booking.paid_charge_id == outcome.charge_id:
            return
        if booking.status != S.PAYMENT_PENDING or booking.charge_id != outcome.charge_id:
            # paid for something that ended meanwhile: the money goes back
            await record_event(self.session, events.refund(
                booking, outcome.charge_id, outcome.amount or booking.total_fare,
                f"booking {booking.status}", now,
                refund_id=uuid.uuid5(outcome.charge_id, "refund")))
            return
        booking.paid_charge_id = outcome.charge_id
        if not await self._book_seats(booking, now):
            await self._fail(booking, LOST_SEATS, now)
            return
        lines = await self.repo.lines(booking.id)
        issued = tickets.issue(self.session, booking, lines, self.context.signer)
        booking.status, booking.confirmed_at = S.CONFIRMED, now
        hold = await self.claims.get(booking.hold_id)
        hold.status = domain.HoldStatus.CONFIRMED
        await self.session.flush()
        await record_event(self.session, events.confirmed(booking, now))
        await record_event(self.session, events.tickets_issued(booking, issued, now))
        self._forget(booking)

    async def _book_seats(self, booking: Booking, now: datetime) -> bool:
        """Turn the hold's claims into booked ones and the lines into confirmed ones; a claim
        another hold took after ours lapsed, or a confirmed line elsewhere, refuses it all."""
        lines = await self.repo.lines(booking.id)
        seats = [line.seat_id for line in lines]
        try:
            async with self.session.begin_nested():
                for claim in await self.claims.of_seats(booking.journey_id, seats):
                    if claim.hold_id == booking.hold_id:
                        continue
                    if claim.state == "held" and claim.expires_at <= now:
                        await self.session.delete(claim)
                    else:
                        raise _SeatLost
                await self.session.flush()
                present = {c.seat_id for c in await self.claims.of_seats(booking.journey_id, seats)}
                await self.claims.add([
                    {"journey_id": booking.journey_id, "seat_id": seat, "hold_id": booking.hold_id,
                     "booking_id": booking.id, "state": "booked", "expires_at": None}
                    for seat in seats if seat not in present])
                for claim in await self.claims.of_seats(booking.journey_id, seats):
                    claim.state, claim.expires_at, claim.booking_id = "booked", None, booking.id
                for line in lines:
                    line.status = "confirmed"
                await self.session.flush()
        except (_SeatLost, IntegrityError):
            return False
        return True

    async def _fail(self, booking: Booking, reason: str, now: datetime) -> None:
        booking.status, booking.failure_reason = S.FAILED, reason
        await self.claims.drop_for_booking(booking.id, booking.hold_id)
        await self.repo.set_lines(booking.id, "cancelled")
        hold = await self.claims.get(booking.hold_id)
        hold.status = domain.HoldStatus.EXPIRED
        booking.refund_amount, booking.refund_status = booking.total_fare, "pending"
        await self.session.flush()
        await record_event(self.session, events.failed(booking, reason, now))
        await record_event(self.session, events.refund(booking, booking.paid_charge_id,
                                                       booking.total_fare, reason, now))
        self._forget(booking)

    async def charge_failed(self, outcome: ChargeFailed, now: datetime) -> None:
        booking = await self.repo.by_charge(outcome.charge_id)
        if booking is None or booking.status != S.PAYMENT_PENDING \
                or booking.charge_id != outcome.charge_id:
            return
        booking.status = S.PENDING_PAYMENT
        booking.failure_reason = outcome.reason or "payment failed"
        await self.session.flush()
        await record_event(self.session,
                           events.payment_failed(booking, booking.failure_reason, now))

    async def charge_refunded(self, outcome: ChargeRefunded, now: datetime) -> None:
        booking = await self.repo.get(outcome.reference_id)
        if booking is None or booking.refund_status == "refunded":
            return
        booking.refund_status = "refunded"
        await self.session.flush()
        await record_event(self.session, events.refunded(booking, outcome.amount, now))

    async def refund_failed(self, outcome: RefundFailed) -> None:
        """The payment service could not give the money back: shown on the booking for support."""
        booking = await self.repo.get(outcome.reference_id)
        if booking is None or booking.refund_status == "refunded":
            return
        booking.refund_status = "failed"
        booking.failure_reason = f"refund failed: {outcome.reason or 'unknown reason'}"
        await self.session.flush()

    async def cancel(self, user: Principal, booking_id: uuid.UUID, reason: str,
                     now: datetime) -> Booking:
        """Refund by the table, cancel the tickets and free the seats, in one transaction."""
        booking = await self.own(user, booking_id, lock=True)
        refund = None
        if booking.status == S.PAYMENT_PENDING:
            raise Conflict("payment in progress", "cancel once the payment has been answered")
        if booking.status == S.CONFIRMED:
            refund = domain.refund_for(booking.total_fare, booking.departure_at, now,
                                       self.settings.cancellation_fee)
            if refund is None:
                raise Conflict("train has departed", "a departed booking cannot be cancelled")
            issued = await self.repo.tickets(booking.id)
            if any(t.status == domain.TicketStatus.USED for t in issued):
                raise Conflict("a ticket has been used")
        elif booking.status not in domain.UNPAID:
            raise Conflict(f"booking is {booking.status}")
        await self.claims.drop_for_booking(booking.id, booking.hold_id)
        await self.repo.set_lines(booking.id, "cancelled")
        await self.repo.set_tickets(booking.id, domain.TicketStatus.CANCELLED)
        hold = await self.claims.get(booking.hold_id)
        if hold.status == domain.HoldStatus.ACTIVE:
            hold.status = domain.HoldStatus.RELEASED
            await self.context.locks.release(hold.journey_id, seat_ids(hold), str(hold.id))
        booking.status, booking.cancelled_at = S.CANCELLED, now
        booking.failure_reason = reason or None
        if refund is not None:
            booking.refund_amount, booking.refund_fee = refund.amount, refund.fee
            booking.refund_status = "pending" if refund.amount > 0 else "none"
        await self.session.flush()
        await record_event(self.session, events.cancelled(booking, refund, now))
        if refund is not None and refund.amount > 0:
            await record_event(self.session, events.refund(
                booking, booking.paid_charge_id, refund.amount, reason or "cancelled", now))
        self._forget(booking)
        return booking

    async def expire(self, hold: SeatHold, now: datetime) -> None:
        """A lapsed hold: its seats free again, its unpaid booking expired."""
        await self.claims.drop_held(hold.id)
        hold.status = domain.HoldStatus.EXPIRED
        booking = await self.repo.get(hold.booking_id) if hold.booking_id else None
        if booking is not None and booking.status in domain.UNPAID:
            booking.status, booking.failure_reason = S.EXPIRED, "the seat hold expired"
            await self.repo.set_lines(booking.id, "cancelled")
            await self.session.flush()
            await record_event(self.session, events.failed(booking, booking.failure_reason, now))
        await self.session.flush()
        await self.context.locks.release(hold.journey_id, seat_ids(hold), str(hold.id))
        journey = await self.timetable.get(hold.journey_id)
        if journey is not None:
            self.holds.forget_searches(journey)

    def _forget(self, booking: Booking) -> None:
        after_commit(self.session, lambda: self.context.cache.forget(booking.journey_date))


class _SeatLost(Exception):
    pass


