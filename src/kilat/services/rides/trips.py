"""The ride: start near the pickup, the driver's metered track, arrival with the driver's
adjustment and the fee split, and payment through the payment service's events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.charges import ChargeCaptured, ChargeFailed, RideChargeRequested
from kilat.contracts.rides import RideArrived, RideCompleted, RidePaymentFailed, RideStarted
from kilat.platform.auth import Principal
from kilat.platform.db import after_commit
from kilat.platform.errors import Conflict, Forbidden, Unprocessable, not_found
from kilat.platform.events import record_event
from kilat.platform.geo import haversine_km, is_possible_position
from kilat.services.rides import domain
from kilat.services.rides.context import RidesContext
from kilat.services.rides.domain import Party, PaymentStatus, RequestStatus, RideStatus
from kilat.services.rides.models import Ride
from kilat.services.rides.repository import Matches, Requests, Rides
from kilat.services.rides.schemas import Location
from kilat.services.rides.views import ride_view


class Trips:
    def __init__(self, session: AsyncSession, context: RidesContext, now: datetime) -> None:
        self.session = session
        self.context = context
        self.settings = context.settings
        self.live = context.live
        self.now = now
        self.rides = Rides(session)

    async def _record(self, contract, entity: uuid.UUID, version: int | str = 1) -> None:
        await record_event(self.session, contract,
                           event_id=domain.event_id(contract.TYPE, entity, version))

    async def _tell_both(self, ride: Ride, event: str) -> None:
        shown = ride_view(ride)
        for user_id in (ride.passenger_id, ride.driver_id):
            await self.live.tell(self.session, user_id, event, shown)

    async def _fresh(self, ride: Ride) -> Ride:
        await self.session.refresh(ride)
        return ride

    async def _party_ride(self, user: Principal, ride_id: uuid.UUID, *,
                          lock: bool = False) -> tuple[Ride, Party | None]:
        ride = await self.rides.get(ride_id, for_update=lock and self.rides.is_postgres)
        if ride is None:
            raise not_found("Ride", ride_id)
        party = domain.party_of(user.user_id, ride.passenger_id, ride.driver_id)
        if party is None and not user.is_admin:
            raise Forbidden("not your ride")
        return ride, party

    async def _drivers_ride(self, user: Principal, ride_id: uuid.UUID, *,
                            lock: bool = False) -> Ride:
        ride, party = await self._party_ride(user, ride_id, lock=lock)
        if party is not Party.DRIVER:
            raise Forbidden("only the ride's driver can do this")
        return ride

    async def view(self, user: Principal, ride_id: uuid.UUID) -> Ride:
        return (await self._party_ride(user, ride_id))[0]

    async def mine(self, user: Principal, role: str | None, status: str | None, offset: int,
                   limit: int) -> tuple[list[Ride], int]:
        return await self.rides.paginate(self.rides.of_user(user.user_id, role, status),
                                         offset=offset, limit=limit)

    # --- start and the meter -------------------------------------------------------------------

    async def start(self, user: Principal, ride_id: uuid.UUID, latitude: float,
                    longitude: float) -> Ride:
        ride = await self._drivers_ride(user, ride_id)
        if not is_possible_position(latitude, longitude):
            raise Unprocessable("impossible coordinates")
        away_m = haversine_km(latitude, longitude, ride.pickup_lat, ride.pickup_lng) * 1000
        if ride.status == RideStatus.PICKUP and away_m > self.settings.start_radius_m:
            raise Unprocessable("too far from the pickup to start",
                                f"{away_m:.0f} m away; start within "
                                f"{self.settings.start_radius_m:.0f} m of the pickup")
        if not await self.rides.move(ride.id, [RideStatus.PICKUP], self.now,
                                     status=RideStatus.ONGOING, started_at=self.now,
                                     anchor_lat=latitude, anchor_lng=longitude,
                                     anchor_at=self.now, last_fix_at=self.now):
            raise Conflict(f"ride cannot start: it is {ride.status}")
        ride = await self._fresh(ride)
        await self._record(RideStarted(
            request_id=ride.request_id, passenger_id=ride.passenger_id, driver_id=ride.driver_id,
            ride_id=ride.id, status=ride.status, started_at=self.now, occurred_at=self.now),
            ride.id)
        await self._tell_both(ride, "ride_started")
        return ride

    async def locate(self, user: Principal, ride_id: uuid.UUID, fix: Location) -> dict:
        """A fix from either phone; only the driver's track is metered (its ledger rows carry
        the (ride, party, recorded_at) dedup key)."""
        ride, party = await self._party_ride(user, ride_id, lock=True)
        if party is None:
            raise Forbidden("only the ride's driver or passenger report positions")
        if ride.status != RideStatus.ONGOING:
            raise Conflict(f"positions are taken while the ride is ongoing; it is {ride.status}")
        at = self._fix_time(fix, ride)
        if party is Party.PASSENGER:
            stored = await self.rides.add_fix(self._fix_row(ride, party, fix, at, "recorded", 0.0))
            return self._located(ride, party, "recorded" if stored else "duplicate", 0.0)
        meter = domain.Meter(ride.anchor_lat, ride.anchor_lng, ride.anchor_at, ride.last_fix_at,
                             ride.distance_m)
        policy = domain.MeterPolicy(self.settings.jitter_m, self.settings.max_speed_kmh)
        after, verdict, segment = meter.record(fix.latitude, fix.longitude, at, policy)
        if not await self.rides.add_fix(self._fix_row(ride, party, fix, at, verdict, segment)):
            return self._located(ride, party, "duplicate", 0.0)
        if verdict is not domain.FixVerdict.OUT_OF_ORDER:
            await self.rides.move(ride.id, [RideStatus.ONGOING], self.now,
                                  distance_m=after.distance_m, anchor_lat=after.anchor_lat,
                                  anchor_lng=after.anchor_lng, anchor_at=after.anchor_at,
                                  last_fix_at=after.last_fix_at)
            ride = await self._fresh(ride)
            self._show_driver(ride, fix, at)
        return self._located(ride, party, verdict.value, segment)

    def _fix_time(self, fix: Location, ride: Ride) -> datetime:
        if not is_possible_position(fix.latitude, fix.longitude):
            raise Unprocessable("impossible coordinates")
        at = fix.recorded_at or self.now
        if at > self.now + timedelta(seconds=self.settings.clock_skew_seconds):
            raise Unprocessable("recorded_at is in the future")
        if at < ride.started_at:
            raise Unprocessable("recorded_at is before the ride started")
        return at

    @staticmethod
    def _fix_row(ride: Ride, party: Party, fix: Location, at: datetime, verdict: str,
                 segment: float) -> dict:
        return {"id": uuid.uuid4(), "ride_id": ride.id, "party": party.value,
                "latitude": fix.latitude, "longitude": fix.longitude, "recorded_at": at,
                "verdict": str(verdict), "segment_m": segment, "created_at": datetime.now(UTC)}

    def _show_driver(self, ride: Ride, fix: Location, at: datetime) -> None:
        data = {"ride_id": str(ride.id), "latitude": fix.latitude, "longitude": fix.longitude,
                "recorded_at": at.isoformat(), "distance_m": round(ride.distance_m)}
        live, passenger, driver = self.live, ride.passenger_id, ride.driver_id
        after_commit(self.session, lambda: live.telemetry(passenger, "driver_location", data))
        after_commit(self.session, lambda: live.moved(driver, fix.latitude, fix.longitude))

    def _located(self, ride: Ride, party: Party, verdict: str, segment: float) -> dict:
        return {"ride_id": ride.id, "party": party.value, "verdict": verdict,
                "segment_m": round(segment, 1), "distance_m": round(ride.distance_m),
                "fare_so_far": domain.fare_for(ride.distance_m, self.settings.fare_per_km),
                "currency": ride.currency}

    # --- arrival and payment -------------------------------------------------------------------

    async def arrive(self, user: Principal, ride_id: uuid.UUID, factor: Decimal) -> Ride:
        """The driver ends the trip and chooses the share of the metered fare to charge; while
        the passenger has not paid, the driver may quote again (a retry after a rejection)."""
        ride = await self._drivers_ride(user, ride_id, lock=True)  # no fix lands meanwhile
        fare = domain.fare_for(ride.distance_m, self.settings.fare_per_km)
        split = domain.settle(fare, factor, self.settings.admin_fee_percent)
        if ride.status == RideStatus.AWAITING_PAYMENT and ride.adjustment_factor == factor:
            return ride  # the same quote again
        if not await self.rides.move(
                ride.id, [RideStatus.ONGOING, RideStatus.AWAITING_PAYMENT], self.now,
                status=RideStatus.AWAITING_PAYMENT, arrived_at=self.now, fare=split.fare,
                adjustment_factor=split.adjustment_factor, adjusted_fare=split.adjusted_fare,
                admin_fee=split.admin_fee, driver_payout=split.driver_payout):
            raise Conflict(f"ride cannot arrive: it is {ride.status}")
        ride = await self._fresh(ride)
        await self._record(RideArrived(
            request_id=ride.request_id, passenger_id=ride.passenger_id, driver_id=ride.driver_id,
            ride_id=ride.id, status=ride.status, distance_m=round(ride.distance_m), fare=split.fare,
            adjustment_factor=str(factor.normalize()), adjusted_fare=split.adjusted_fare,
            admin_fee=split.admin_fee, driver_payout=split.driver_payout,
            currency=ride.currency, occurred_at=self.now), ride.id, self.now.isoformat())
        await self._tell_both(ride, "ride_arrived")
        return ride

    async def pay(self, user: Principal, ride_id: uuid.UUID, accept: bool) -> Ride:
        """The passenger's answer to the fare: accept asks the payment service for the charge
        (an event in this transaction, never a call); reject waits for a new quote."""
        ride, party = await self._party_ride(user, ride_id)
        if party is not Party.PASSENGER:
            raise Forbidden("only the ride's passenger pays")
        if ride.status != RideStatus.AWAITING_PAYMENT:
            raise Conflict(f"nothing to pay: the ride is {ride.status}")
        if not accept:
            return await self._rejected(ride)
        if not ride.adjusted_fare:
            return await self._complete(ride, None, PaymentStatus.NOT_NEEDED)
        attempt = ride.payment_attempt + 1
        charge = domain.charge_id(ride.id, attempt)
        if not await self.rides.move(ride.id, [RideStatus.AWAITING_PAYMENT], self.now,
                                     status=RideStatus.PAYMENT_PENDING, payment_attempt=attempt,
                                     charge_id=charge, payment_status=PaymentStatus.PENDING,
                                     payment_error=None):
            raise Conflict("the ride changed meanwhile; read it again")
        ride = await self._fresh(ride)
        await self._record(RideChargeRequested(
            charge_id=charge, source="rides", reference_id=ride.id,
            reference=f"ride {str(ride.id)[:8]}", payer_id=ride.passenger_id,
            amount=ride.adjusted_fare, currency=ride.currency, payee_id=ride.driver_id,
            payee_amount=ride.driver_payout, fee_amount=ride.admin_fee,
            description=f"Ride of {ride.distance_m / 1000:.1f} km", requested_at=self.now),
            ride.id, attempt)
        await self._tell_both(ride, "payment_pending")
        return ride

    async def _rejected(self, ride: Ride) -> Ride:
        if not await self.rides.move(ride.id, [RideStatus.AWAITING_PAYMENT], self.now,
                                     payment_status=PaymentStatus.FAILED,
                                     payment_error="rejected by the passenger"):
            raise Conflict("the ride changed meanwhile; read it again")
        ride = await self._fresh(ride)
        await self._failed(ride, None, "rejected by the passenger")
        return ride

    async def _failed(self, ride: Ride, charge: uuid.UUID | None, reason: str) -> None:
        await self._record(RidePaymentFailed(
            request_id=ride.request_id, passenger_id=ride.passenger_id, driver_id=ride.driver_id,
            ride_id=ride.id, status=ride.status, charge_id=charge, attempt=ride.payment_attempt,
            reason=reason, adjusted_fare=ride.adjusted_fare or 0, currency=ride.currency,
            occurred_at=self.now), ride.id, f"{ride.payment_attempt}:{self.now.isoformat()}")
        await self._tell_both(ride, "payment_failed")

    async def _complete(self, ride: Ride, charge: uuid.UUID | None, status: PaymentStatus) -> Ride:
        expected = [RideStatus.PAYMENT_PENDING if charge else RideStatus.AWAITING_PAYMENT]
        if not await self.rides.move(ride.id, expected, self.now, status=RideStatus.COMPLETED,
                                     payment_status=status, completed_at=self.now,
                                     paid_at=self.now if charge else None, payment_error=None):
            raise Conflict("the ride changed meanwhile; read it again")
        ride = await self._fresh(ride)
        await Requests(self.session).move(ride.request_id, [RequestStatus.CONFIRMED], self.now,
                                          open=False, ended_at=self.now)
        if await Matches(self.session).release(ride.match_id, self.now):
            live, driver = self.live, ride.driver_id
            after_commit(self.session, lambda: live.set_busy(driver, False))
        await self._record(RideCompleted(
            request_id=ride.request_id, passenger_id=ride.passenger_id, driver_id=ride.driver_id,
            ride_id=ride.id, status=ride.status, charge_id=charge,
            distance_m=round(ride.distance_m), adjusted_fare=ride.adjusted_fare or 0,
            admin_fee=ride.admin_fee or 0, driver_payout=ride.driver_payout or 0,
            currency=ride.currency, occurred_at=self.now), ride.id)
        await self._tell_both(ride, "ride_completed")
        return ride

    # --- the payment service's answers -----------------------------------------------------------

    async def charge_captured(self, outcome: ChargeCaptured) -> None:
        """The charge was taken: the ride completes (once, whatever the redeliveries)."""
        ride = await self.rides.by_charge(outcome.charge_id)
        if ride is None or ride.status != RideStatus.PAYMENT_PENDING:
            return
        await self._complete(ride, outcome.charge_id, PaymentStatus.PAID)

    async def charge_failed(self, outcome: ChargeFailed) -> None:
        """Nothing was taken: the ride waits for the passenger to try again."""
        ride = await self.rides.by_charge(outcome.charge_id)
        if ride is None or ride.status != RideStatus.PAYMENT_PENDING:
            return
        reason = (outcome.reason or "payment failed")[:500]
        if not await self.rides.move(ride.id, [RideStatus.PAYMENT_PENDING], self.now,
                                     status=RideStatus.AWAITING_PAYMENT,
                                     payment_status=PaymentStatus.FAILED, payment_error=reason):
            return
        ride = await self._fresh(ride)
        await self._failed(ride, outcome.charge_id, reason)
