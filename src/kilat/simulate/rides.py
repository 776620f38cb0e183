"""NebengJek in the simulated city: passengers hail a ride near a driver, the driver accepts the
offer, drives to the pickup, meters the trip with fixes and arrives; the passenger pays.

Each request is meant for one driver: the passenger picks a free driver (from its own random
stream, in passenger order) and asks for a pickup a few hundred metres from where that driver's
last beacon put them, so the platform offers it to that driver, who accepts it. The payment's
answer is followed in the background and never feeds back into decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kilat.platform.geo import haversine_km
from kilat.simulate.agents import Agent
from kilat.simulate.city import NEIGHBOURHOODS, place_near, random_place
from kilat.simulate.client import ApiError, UserClient
from kilat.simulate.config import SimulationConfig
from kilat.simulate.vertical import Point, Vertical, move_towards, point_near, where

RIDES = "/api/v1/rides"
FACTORS = ("1.0", "1.0", "1.0", "0.9")


class TripStatus(StrEnum):
    SEARCHING = "searching"
    FOUND = "driver_found"
    PICKUP = "pickup"
    ONGOING = "ongoing"
    ARRIVED = "arrived"
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass
class Trip:
    index: str  # the passenger's name and ride number: known before any request is answered
    passenger: int
    driver: int
    request_id: str
    pickup: Point
    destination: Point
    created_tick: int
    status: TripStatus = TripStatus.SEARCHING
    ride_id: str | None = None
    answer: dict | None = None  # the ride as the payment left it, when it answered at once


class Passenger(Agent):
    role = "passenger"
    phone_block = 2

    def __init__(self, index: int, config: SimulationConfig, client: UserClient) -> None:
        super().__init__(index, config, client)
        self.trip: Trip | None = None
        self.next_request_tick = 0
        self.hails = 0

    def wants_ride(self, tick: int) -> bool:
        return self.ready and self.trip is None and tick >= self.next_request_tick

    def choose(self, drivers: list[Driver]) -> Driver:
        return self.rng.choice(drivers)

    async def step(self, tick: int, driver: Driver | None) -> Trip | None:
        """Sign up, hail, confirm, give up or pay; returns a trip whose payment to follow."""
        if not self.ready:
            if tick >= self.setup_tick():
                await self.sign_up()
                self.ready = True
                self.next_request_tick = tick + self.rng.randint(*self.config.think_ticks)
            return None
        trip = self.trip
        if trip is None:
            if driver is not None:
                await self._hail(tick, driver)
            return None
        waited = tick - trip.created_tick
        if trip.status is TripStatus.SEARCHING and waited >= self.config.give_up_ticks:
            await self.client.call("ride_cancel", "POST",
                                   f"{RIDES}/requests/{trip.request_id}/cancel",
                                   {"reason": "waited too long"})
            trip.status = TripStatus.CANCELLED
            self.did("ride_cancel", trip.index)
            self._done(tick)
        elif trip.status is TripStatus.FOUND:
            await self._confirm(tick, trip)
        elif trip.status is TripStatus.ARRIVED:
            return await self._pay(tick, trip)
        return None

    async def _hail(self, tick: int, driver: Driver) -> None:
        pickup = point_near(self.rng, driver.beacon, 0.05, 0.3)
        destination = point_near(self.rng, pickup, *self.config.ride_km)
        self.next_request_tick = tick + self.rng.randint(*self.config.think_ticks)
        body = {"pickup": where(pickup), "destination": where(destination)}
        request = await self.client.call("ride_request", "POST", f"{RIDES}/requests", body)
        self.hails += 1
        trip = Trip(f"{self.name}#{self.hails}", self.index, driver.index, request["id"], pickup,
                    destination, tick)
        self.trip = driver.trip = trip
        self.did("ride_request", trip.index, driver.name,
                 round(haversine_km(*pickup, *destination), 2))

    async def _confirm(self, tick: int, trip: Trip) -> None:
        try:
            ride = await self.client.call("ride_confirm", "POST",
                                          f"{RIDES}/requests/{trip.request_id}/confirm")
        except ApiError:  # counted; the driver lets the trip go rather than wait forever
            trip.status = TripStatus.CANCELLED
            self._done(tick)
            raise
        trip.ride_id, trip.status = ride["id"], TripStatus.PICKUP
        self.did("ride_confirm", trip.index)

    async def _pay(self, tick: int, trip: Trip) -> Trip:
        """Accept the fare. The platform waits a moment for the payment service's answer."""
        ride = await self.client.call("ride_pay", "POST", f"{RIDES}/{trip.ride_id}/payment",
                                      {"decision": "accept"})
        trip.status = TripStatus.PAID
        self.did("ride_pay", trip.index)
        self._done(tick)
        trip.answer = ride if ride["status"] == "completed" else None
        return trip

    def _done(self, tick: int) -> None:
        self.trip = None
        self.next_request_tick = max(self.next_request_tick,
                                     tick + self.rng.randint(*self.config.think_ticks))


class Driver(Agent):
    role = "driver"
    phone_block = 3

    def __init__(self, index: int, config: SimulationConfig, client: UserClient) -> None:
        super().__init__(index, config, client)
        start = random_place(self.rng, self.rng.choice(NEIGHBOURHOODS), spread_km=2.0)
        self.position: Point = (round(start.latitude, 6), round(start.longitude, 6))
        self.cruise_to: Point = self._somewhere_near()
        self.beacon: Point | None = None
        self.trip: Trip | None = None
        self.free_at = 0
        self.vehicle = self.rng.choice(("motorcycle", "motorcycle", "car"))

    def is_free(self, tick: int) -> bool:
        return self.ready and self.trip is None and tick >= self.free_at and self.beacon is not None

    def _somewhere_near(self) -> Point:
        place = place_near(self.rng, *self.position, 1.5)
        return round(place.latitude, 6), round(place.longitude, 6)

    async def step(self, tick: int) -> None:
        """Sign up, cruise and beacon, accept the offer meant for me, or drive the ride on."""
        if not self.ready:
            if tick >= self.setup_tick():
                await self._sign_up_and_switch_on()
            return
        trip = self.trip
        if trip is not None and trip.status is TripStatus.CANCELLED:
            self.trip = trip = None
        if trip is None:
            await self._cruise(tick)
        elif trip.status is TripStatus.SEARCHING:
            await self._take_offer(trip)
        elif trip.status is TripStatus.PICKUP:
            await self._to_pickup(tick, trip)
        elif trip.status is TripStatus.ONGOING:
            await self._to_destination(tick, trip)

    async def _sign_up_and_switch_on(self) -> None:
        await self.sign_up()
        await self.client.call("driver_profile", "POST", f"{RIDES}/drivers",
                               {"vehicle_type": self.vehicle,
                                "vehicle_plate": f"W {self.index:04d} NJ"})
        await self._beacon()
        self.ready = True

    async def _beacon(self) -> None:
        await self.client.call("beacon", "POST", f"{RIDES}/drivers/me/beacon",
                               where(self.position) | {"available": True})
        self.beacon = self.position

    def _drive(self, target: Point, speed_kmh: float) -> bool:
        self.position, there = move_towards(self.position, target,
                                            speed_kmh * self.config.tick_seconds / 3600)
        return there

    async def _cruise(self, tick: int) -> None:
        if self._drive(self.cruise_to, self.rng.uniform(15, 40)):
            self.cruise_to = self._somewhere_near()
        if (tick + self.index) % self.config.ping_every_ticks == 0:
            await self._beacon()

    async def _take_offer(self, trip: Trip) -> None:
        """Read my offers; the one for the request meant for me is accepted."""
        offers = await self.client.call("ride_offers", "GET", f"{RIDES}/offers")
        offer = next((o for o in offers if o["request_id"] == trip.request_id), None)
        if offer is None:
            return  # not offered (yet): the passenger gives up in time
        await self.client.call("ride_accept", "POST", f"{RIDES}/offers/{offer['id']}/accept")
        trip.status = TripStatus.FOUND
        self.did("ride_accept", trip.index)

    async def _to_pickup(self, tick: int, trip: Trip) -> None:
        if not self._drive(trip.pickup, self.config.ride_speed_kmh):
            if (tick + self.index) % self.config.ping_every_ticks == 0:
                await self._beacon()
            return
        await self.client.call("ride_start", "POST", f"{RIDES}/{trip.ride_id}/start",
                               where(self.position))
        trip.status = TripStatus.ONGOING
        self.did("ride_start", trip.index)

    async def _to_destination(self, tick: int, trip: Trip) -> None:
        there = self._drive(trip.destination, self.config.ride_speed_kmh)
        if there or (tick + self.index) % self.config.ping_every_ticks == 0:
            await self.client.call("ride_fix", "POST", f"{RIDES}/{trip.ride_id}/location",
                                   where(self.position))
        if not there:
            return
        factor = self.rng.choice(FACTORS)
        await self.client.call("ride_arrive", "POST", f"{RIDES}/{trip.ride_id}/arrive",
                               {"adjustment_factor": factor})
        trip.status = TripStatus.ARRIVED
        self.did("ride_arrive", trip.index, factor)
        self.trip = None
        self.free_at = tick + self.rng.randint(*self.config.rest_ticks)
        self.cruise_to = self._somewhere_near()


class RidesCity(Vertical):
    name = "rides"
    counted = {"ride_request": "requests", "ride_accept": "matches",
               "ride_confirm": "confirmed", "ride_start": "started", "ride_arrive": "arrived",
               "ride_cancel": "cancelled"}

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.passengers = [Passenger(i, self.config, self.client())
                           for i in range(self.config.passengers)]
        self.drivers = [Driver(i, self.config, self.client()) for i in range(self.config.drivers)]

    @property
    def agents(self) -> list[Agent]:
        return [*self.passengers, *self.drivers]

    async def tick(self, tick: int) -> None:
        chosen = self._hails(tick)
        paid = await self.phase(self.passengers, [
            p.step(tick, chosen.get(p.index)) for p in self.passengers])
        for trip in filter(None, paid):
            self.spawn(self._payment_answer(trip))
        await self.phase(self.drivers, [d.step(tick) for d in self.drivers])

    def _hails(self, tick: int) -> dict[int, Driver]:
        """Passengers who want a ride, in order, each take one free driver."""
        free = [d for d in self.drivers if d.is_free(tick)]
        chosen: dict[int, Driver] = {}
        for passenger in self.passengers:
            if free and passenger.wants_ride(tick):
                driver = passenger.choose(free)
                free.remove(driver)
                chosen[passenger.index] = driver
        return chosen

    async def _payment_answer(self, trip: Trip) -> None:
        """The ride completes once the payment service answered (at once, or a little later)."""
        ride = trip.answer
        if ride is None:
            client = self.passengers[trip.passenger].client
            ride = await self.wait_for("ride_paid", client, f"{RIDES}/{trip.ride_id}",
                                       lambda r: r["status"] == "completed")
        if ride is None:
            return
        self.counts["completed"] += 1
        if ride["payment_status"] == "paid":
            self.counts["paid"] += 1
            self.counts["fares_idr"] += ride["adjusted_fare"] or 0
        else:
            self.counts["free_rides"] += 1  # under a whole kilometre: no fare to charge
