"""Requests and matching: offers to the nearest available drivers in batches, expiry and
re-dispatch from the deadline queue, the atomic claim of a driver, the passenger's confirmation
and cancellation. Side effects (events, frames) follow only the guarded update that won."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.rides import (
    RideCancelled,
    RideConfirmed,
    RideDriverFound,
    RideOffered,
    RideRequested,
    RideSearchEnded,
)
from kilat.platform.auth import Principal
from kilat.platform.db import after_commit
from kilat.platform.errors import Conflict, Forbidden, Unprocessable, not_found
from kilat.platform.events import record_event
from kilat.platform.geo import is_possible_position
from kilat.platform.geoindex import check_indexable
from kilat.platform.models import utcnow
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.rides import domain
from kilat.services.rides.context import RidesContext
from kilat.services.rides.domain import OfferStatus, Party, RequestStatus, RideStatus
from kilat.services.rides.models import Match, Offer, Ride, RideRequest
from kilat.services.rides.repository import Drivers, Matches, Offers, Requests, Rides
from kilat.services.rides.schemas import RequestCreate
from kilat.services.rides.views import offer_view, request_view, ride_view

SEARCH_RETRY_SECONDS = 5.0


class Matching:
    def __init__(self, session: AsyncSession, context: RidesContext, now: datetime) -> None:
        self.session = session
        self.context = context
        self.settings = context.settings
        self.live = context.live
        self.now = now
        self.requests = Requests(session)
        self.offers = Offers(session)
        self.matches = Matches(session)
        self.rides = Rides(session)
        self.drivers = Drivers(session)

    async def _record(self, contract, entity: uuid.UUID, version: int | str = 1) -> None:
        await record_event(self.session, contract,
                           event_id=domain.event_id(contract.TYPE, entity, version))

    # --- requests ----------------------------------------------------------------------------

    async def create(self, passenger: Principal, body: RequestCreate) -> RideRequest:
        """A passenger asks for a ride; the nearest drivers are offered it at once."""
        for where in (body.pickup, body.destination):
            if not is_possible_position(where.latitude, where.longitude):
                raise Unprocessable("impossible coordinates", "(0, 0) is not a place")
        check_indexable(body.pickup.latitude, body.pickup.longitude)
        request = RideRequest(
            passenger_id=passenger.user_id, status=RequestStatus.SEARCHING, open=True,
            pickup_lat=body.pickup.latitude, pickup_lng=body.pickup.longitude,
            destination_lat=body.destination.latitude,
            destination_lng=body.destination.longitude,
            search_expires_at=self.now + timedelta(seconds=self.settings.search_timeout_seconds),
            created_at=self.now, updated_at=self.now)
        try:
            async with self.session.begin_nested():
                self.session.add(request)
                await self.session.flush()
        except IntegrityError as exc:  # the partial unique index: one open request per passenger
            raise Conflict("you already have an open ride request",
                           "cancel it or finish its ride before asking for another") from exc
        await self._record(RideRequested(
            request_id=request.id, passenger_id=passenger.user_id, status=request.status,
            pickup_latitude=request.pickup_lat, pickup_longitude=request.pickup_lng,
            destination_latitude=request.destination_lat,
            destination_longitude=request.destination_lng, occurred_at=self.now), request.id)
        await self.dispatch(request, fresh=True)
        return request

    async def view(self, request_id: uuid.UUID, user: Principal) -> dict:
        request = await self.requests.get_or_404(request_id)
        party = domain.party_of(user.user_id, request.passenger_id, request.driver_id)
        if party is None and not user.is_admin:
            raise Forbidden("not your ride request")
        return await self.shown(request)

    async def shown(self, request: RideRequest) -> dict:
        driver = await self.drivers.get(request.driver_id) if request.driver_id else None
        return request_view(request, driver)

    # --- dispatch ----------------------------------------------------------------------------

    async def dispatch(self, request: RideRequest, *, fresh: bool = False) -> list[Offer]:
        """Offer ``request`` to the nearest available drivers not offered it yet, keeping at most
        ``offer_batch`` offers pending; then set its next deadline. (A ``fresh`` request has no
        offers yet.)"""
        offers = [] if fresh else await self.offers.of_request(request.id)
        pending = [o for o in offers if o.status == OfferStatus.PENDING and o.expires_at > self.now]
        chosen = await self._candidates(request, {str(o.driver_id) for o in offers}, len(pending))
        made = await self._offer(request, chosen)
        deadlines = [o.expires_at for o in [*pending, *made]]
        retry = self.now + timedelta(seconds=SEARCH_RETRY_SECONDS)
        deadline = min(deadlines) if deadlines else retry
        await self.requests.move(request.id, [RequestStatus.SEARCHING], self.now,
                                 deadline_at=min(deadline, request.search_expires_at))
        return made

    async def _candidates(self, request: RideRequest, offered: set[str],
                          pending: int) -> list[domain.Candidate]:
        room = self.settings.offer_batch - pending
        if room <= 0:
            return []
        hits = await self.live.index.nearby(
            request.pickup_lat, request.pickup_lng, self.settings.match_radius_km,
            len(offered) + room * 4, self.live.now_epoch())
        candidates = [domain.Candidate(h.member, h.distance_km) for h in hits]
        busy = await self.matches.busy([uuid.UUID(c.driver_id) for c in candidates])
        free = [c for c in candidates if uuid.UUID(c.driver_id) not in busy]
        return domain.next_offers(free, already_offered=offered, pending=pending,
                                  batch=self.settings.offer_batch,
                                  radius_km=self.settings.match_radius_km)

    async def _offer(self, request: RideRequest, chosen: list[domain.Candidate]) -> list[Offer]:
        expires_at = self.now + timedelta(seconds=self.settings.offer_ttl_seconds)
        made = [Offer(request_id=request.id, driver_id=uuid.UUID(c.driver_id),
                      passenger_id=request.passenger_id, distance_km=c.distance_km,
                      status=OfferStatus.PENDING, expires_at=expires_at, created_at=self.now,
                      updated_at=self.now) for c in chosen]
        if not made:
            return made
        self.session.add_all(made)
        await self.session.flush()
        for offer in made:
            await self._record(RideOffered(
                request_id=request.id, passenger_id=request.passenger_id,
                driver_id=offer.driver_id, status=offer.status, offer_id=offer.id,
                distance_km=round(offer.distance_km, 3), expires_at=expires_at,
                occurred_at=self.now), offer.id)
        await self.live.tell_many(self.session, [(o.driver_id, "offer", offer_view(o, request))
                                                 for o in made])
        return made

    async def _withdraw(self, offers: list[Offer], request: RideRequest | None,
                        why: OfferStatus) -> None:
        event = "offer_expired" if why is OfferStatus.EXPIRED else "offer_withdrawn"
        await self.live.tell_many(self.session, [
            (o.driver_id, event, {"offer_id": str(o.id), "request_id": str(o.request_id)})
            for o in offers])

    # --- the deadline queue ------------------------------------------------------------------

    async def process_due(self, limit: int) -> int:
        """Handle the requests whose deadline has come: lapsed offers expire and the next drivers
        are offered, a search past its time ends, an unconfirmed match lapses."""
        due = await self.requests.claim_due(self.now, limit)
        for request in due:
            await self._due(request)
        return len(due)

    async def _due(self, request: RideRequest) -> None:
        if request.status == RequestStatus.DRIVER_FOUND:
            await self._undo_match(request, "system", "the passenger did not confirm in time")
            request = await self._fresh(request)
        if request.status != RequestStatus.SEARCHING:
            await self.requests.move(request.id, [request.status], self.now, deadline_at=None)
            return
        lapsed = await self.offers.close_pending(OfferStatus.EXPIRED, self.now,
                                                 request_id=request.id, expired_only=True)
        await self._withdraw(lapsed, request, OfferStatus.EXPIRED)
        if self.now >= request.search_expires_at:
            await self._end_search(request)
        else:
            await self.dispatch(request)

    async def _end_search(self, request: RideRequest) -> None:
        if not await self.requests.move(request.id, [RequestStatus.SEARCHING], self.now,
                                        status=RequestStatus.EXPIRED, open=False,
                                        deadline_at=None, ended_at=self.now,
                                        end_reason="no driver accepted in time"):
            return
        left = await self.offers.close_pending(OfferStatus.WITHDRAWN, self.now,
                                               request_id=request.id)
        await self._withdraw(left, request, OfferStatus.WITHDRAWN)
        await self._record(RideSearchEnded(
            request_id=request.id, passenger_id=request.passenger_id,
            status=RequestStatus.EXPIRED, reason="no driver accepted in time",
            occurred_at=self.now), request.id)
        await self.live.tell(self.session, request.passenger_id, "search_expired",
                             {"request_id": str(request.id)})

    # --- offers ------------------------------------------------------------------------------

    async def my_offers(self, driver: Principal) -> list[dict]:
        if await self.matches.active_of(driver.user_id) is not None:
            return []
        views = []
        for offer in await self.offers.pending_for(driver.user_id, self.now):
            request = await self.requests.get(offer.request_id)
            views.append(offer_view(offer, request))
        return views

    async def _my_pending_offer(self, driver: Principal, offer_id: uuid.UUID) -> Offer:
        offer = await self.offers.get(offer_id)
        if offer is None:
            raise not_found("Offer", offer_id)
        if offer.driver_id != driver.user_id:
            raise Forbidden("not your offer")
        if offer.status != OfferStatus.PENDING:
            raise Conflict(f"offer already {offer.status}")
        if domain.offer_expired(offer.expires_at, self.now):
            raise Conflict("offer expired")
        return offer

    async def accept(self, driver: Principal, offer_id: uuid.UUID) -> RideRequest:
        """The atomic claim: an active match row for the driver and the request (partial unique
        indexes) first, then the guarded updates of the offer and the request."""
        offer = await self._my_pending_offer(driver, offer_id)
        profile = await self.drivers.get(driver.user_id)
        if profile is None:
            raise Conflict("register as a driver first")
        match = Match(request_id=offer.request_id, offer_id=offer.id, driver_id=driver.user_id,
                      passenger_id=offer.passenger_id, active=True, created_at=self.now,
                      updated_at=self.now)
        try:
            async with self.session.begin_nested():
                self.session.add(match)
                await self.session.flush()
        except IntegrityError as exc:
            raise await self._claim_refused(driver.user_id) from exc
        if not await self.offers.accept(offer.id, driver.user_id, self.now):
            raise Conflict("offer no longer pending")
        if not await self.requests.move(
                offer.request_id, [RequestStatus.SEARCHING], self.now,
                status=RequestStatus.DRIVER_FOUND, driver_id=driver.user_id, match_id=match.id,
                matched_at=self.now,
                deadline_at=self.now + timedelta(seconds=self.settings.confirm_ttl_seconds)):
            raise Conflict("request already taken or cancelled")
        request = await self.requests.get(offer.request_id)
        await self.session.refresh(request)
        await self._after_claim(request, match, profile)
        return request

    async def _claim_refused(self, driver_id: uuid.UUID) -> Conflict:
        if await self.matches.active_of(driver_id) is not None:
            return Conflict("you already have an active match",
                            "finish or cancel it before accepting another request")
        return Conflict("request already taken by another driver")

    async def _after_claim(self, request: RideRequest, match: Match, profile) -> None:
        others = await self.offers.close_pending(OfferStatus.WITHDRAWN, self.now,
                                                 request_id=request.id)
        await self._withdraw(others, request, OfferStatus.WITHDRAWN)
        await self._record(RideDriverFound(
            request_id=request.id, passenger_id=request.passenger_id, driver_id=match.driver_id,
            status=request.status, match_id=match.id, vehicle_type=profile.vehicle_type,
            vehicle_plate=profile.vehicle_plate, occurred_at=self.now), match.id)
        shown = request_view(request, profile)
        await self.live.tell(self.session, request.passenger_id, "driver_found", shown)
        await self.live.tell(self.session, match.driver_id, "matched", shown)
        driver_id, live = match.driver_id, self.live
        after_commit(self.session, lambda: live.set_busy(driver_id, True))
        after_commit(self.session, lambda: release_other_offers(live, driver_id))

    async def reject(self, driver: Principal, offer_id: uuid.UUID) -> dict:
        offer = await self._my_pending_offer(driver, offer_id)
        if not await self.offers.reject(offer.id, driver.user_id, self.now):
            raise Conflict("offer no longer pending")
        request = await self.requests.lock(offer.request_id)
        if request is not None and request.status == RequestStatus.SEARCHING:
            await self.dispatch(request)
        await self.session.refresh(offer)
        return offer_view(offer, request)

    # --- confirmation and cancellation ---------------------------------------------------------

    async def confirm(self, passenger: Principal, request_id: uuid.UUID) -> Ride:
        """The passenger takes the found driver: one ride per match."""
        request = await self.requests.get_or_404(request_id)
        if request.passenger_id != passenger.user_id:
            raise Forbidden("only the passenger who asked can confirm")
        if not await self.requests.move(request.id, [RequestStatus.DRIVER_FOUND], self.now,
                                        status=RequestStatus.CONFIRMED, deadline_at=None):
            await self.session.refresh(request)
            if request.status == RequestStatus.CONFIRMED:
                raise Conflict("ride already confirmed", f"ride {request.ride_id}")
            raise Conflict(f"nothing to confirm: request is {request.status}")
        # the row as the guarded update found it (its driver may have changed since it was read)
        request = await self._fresh(request)
        ride = Ride(match_id=request.match_id, request_id=request.id,
                    passenger_id=request.passenger_id, driver_id=request.driver_id,
                    status=RideStatus.PICKUP, pickup_lat=request.pickup_lat,
                    pickup_lng=request.pickup_lng, destination_lat=request.destination_lat,
                    destination_lng=request.destination_lng, distance_m=0.0,
                    currency=self.settings.currency, payment_status=domain.PaymentStatus.NONE,
                    payment_attempt=0, created_at=self.now, updated_at=self.now)
        self.session.add(ride)
        await self.session.flush()
        await self.requests.move(request.id, [RequestStatus.CONFIRMED], self.now, ride_id=ride.id)
        await self._record(RideConfirmed(
            request_id=request.id, passenger_id=ride.passenger_id, driver_id=ride.driver_id,
            ride_id=ride.id, status=ride.status, match_id=ride.match_id,
            occurred_at=self.now), ride.match_id)
        for user_id in (ride.passenger_id, ride.driver_id):
            await self.live.tell(self.session, user_id, "ride_confirmed", ride_view(ride))
        return ride

    async def cancel(self, user: Principal, request_id: uuid.UUID, reason: str) -> RideRequest:
        """Either side, before the ride starts. A driver backing out of a found match puts the
        request back to searching; otherwise the request (and its ride) end."""
        request = await self.requests.lock(request_id)
        if request is None:
            raise not_found("Ride request", request_id)
        party = domain.party_of(user.user_id, request.passenger_id, request.driver_id)
        if party is None:
            raise Forbidden("not your ride request")
        reason = reason.strip() or f"cancelled by the {party}"
        if request.status == RequestStatus.DRIVER_FOUND and party is Party.DRIVER:
            await self._undo_match(request, "driver", reason)
            await self.dispatch(await self._fresh(request))
        elif request.status in (RequestStatus.SEARCHING, RequestStatus.DRIVER_FOUND):
            await self._end(request, party.value, reason, [request.status])
        elif request.status == RequestStatus.CONFIRMED:
            await self._cancel_ride(request, party.value, reason)
        else:
            raise Conflict(f"request already {request.status}")
        return await self._fresh(request)

    async def _fresh(self, request: RideRequest) -> RideRequest:
        await self.session.refresh(request)
        return request

    async def _end(self, request: RideRequest, by: str, reason: str, expected: list[str]) -> None:
        if not await self.requests.move(request.id, expected, self.now,
                                        status=RequestStatus.CANCELLED, open=False,
                                        deadline_at=None, ended_at=self.now, cancelled_by=by,
                                        end_reason=reason[:200]):
            raise Conflict("the request changed meanwhile; read it again")
        left = await self.offers.close_pending(OfferStatus.WITHDRAWN, self.now,
                                               request_id=request.id)
        await self._withdraw(left, request, OfferStatus.WITHDRAWN)
        if request.match_id is not None:
            await self._release(request.match_id, request.driver_id)
        await self._cancelled(request, request.driver_id, None, by, reason,
                              RequestStatus.CANCELLED)

    async def _cancel_ride(self, request: RideRequest, by: str, reason: str) -> None:
        if not await self.rides.move(request.ride_id, [RideStatus.PICKUP], self.now,
                                     status=RideStatus.CANCELLED, cancelled_at=self.now,
                                     cancelled_by=by):
            raise Conflict("the ride has started; it can no longer be cancelled")
        await self.requests.move(request.id, [RequestStatus.CONFIRMED], self.now,
                                 status=RequestStatus.CANCELLED, open=False, ended_at=self.now,
                                 cancelled_by=by, end_reason=reason[:200])
        await self._release(request.match_id, request.driver_id)
        await self._cancelled(request, request.driver_id, request.ride_id, by, reason,
                              RideStatus.CANCELLED)

    async def _undo_match(self, request: RideRequest, by: str, reason: str) -> None:
        """The found driver is let go (backed out, or the passenger never confirmed); the
        request searches again without them."""
        driver_id, match_id = request.driver_id, request.match_id
        if not await self.requests.move(request.id, [RequestStatus.DRIVER_FOUND], self.now,
                                        status=RequestStatus.SEARCHING, driver_id=None,
                                        match_id=None, matched_at=None, deadline_at=self.now):
            raise Conflict("the request changed meanwhile; read it again")
        await self._release(match_id, driver_id)
        await self._cancelled(request, driver_id, None, by, reason, RequestStatus.SEARCHING)

    async def _release(self, match_id: uuid.UUID, driver_id: uuid.UUID) -> None:
        if await self.matches.release(match_id, self.now):
            live = self.live
            after_commit(self.session, lambda: live.set_busy(driver_id, False))

    async def _cancelled(self, request: RideRequest, driver_id: uuid.UUID | None,
                         ride_id: uuid.UUID | None, by: str, reason: str, status: str) -> None:
        await self._record(RideCancelled(
            request_id=request.id, passenger_id=request.passenger_id, driver_id=driver_id,
            ride_id=ride_id, status=status, cancelled_by=by, reason=reason[:200],
            occurred_at=self.now), request.id, f"{by}:{self.now.isoformat()}")
        data = {"request_id": str(request.id), "ride_id": None if ride_id is None else str(ride_id),
                "status": status, "cancelled_by": by, "reason": reason[:200]}
        for user_id in (request.passenger_id, driver_id):
            if user_id is not None:
                await self.live.tell(self.session, user_id, "cancelled", data)


async def release_other_offers(live, driver_id: uuid.UUID) -> None:
    """A claimed driver's other pending offers are withdrawn (in their own transaction, so the
    claim never waits on other requests' locks) and those requests searched again now."""
    try:
        async with live.runtime.database.session() as session:
            now = utcnow()
            closed = await Offers(session).close_pending(OfferStatus.WITHDRAWN, now,
                                                         driver_id=driver_id)
            for offer in closed:
                await live.tell(session, driver_id, "offer_withdrawn",
                                {"offer_id": str(offer.id), "request_id": str(offer.request_id)})
            await Requests(session).schedule([o.request_id for o in closed], now)
    except Exception as exc:  # they lapse at their deadline anyway
        stop_if_cancelled(exc)
        return
    if closed:
        live.wake()


async def process_due(runtime, now: datetime) -> int:
    """One batch of the deadline queue in one transaction; how many requests it handled."""
    from kilat.services.rides.live import DUE_BATCH

    async with runtime.database.session(write=False) as session:
        deadline = await Requests(session).next_deadline()
    if deadline is None or deadline > now:
        return 0
    async with runtime.database.session() as session:
        return await Matching(session, runtime.context, now).process_due(DUE_BATCH)
