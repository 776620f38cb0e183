"""Pet owners and runners. Each acts once per tick from its own seeded random stream.

An agent's step only changes the agent, its own jobs and its action log; the engine runs every
step of a phase at once and reads the logs afterwards in agent order, so a seed replays the same
sequence of actions however the requests interleave.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

from kilat.platform.geo import haversine_km
from kilat.simulate.city import NEIGHBOURHOODS, Place, Vehicle, place_near, random_pet, random_place
from kilat.simulate.client import ApiError, UserClient
from kilat.simulate.config import SimulationConfig

PASSWORD = "kilat-sim-Pa55!"
DECLINE_REASONS = ("too_far", "cannot_transport", "already_busy", "pickup_issue")


class JobStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass
class Job:
    """One booking as the simulator knows it; the platform must agree at every tick."""

    index: int
    owner: int
    booking_id: str
    pickup: Place
    dropoff: Place
    cancel_at: int | None
    share: bool
    rating: int
    created_tick: int
    status: JobStatus = JobStatus.REQUESTED
    runner: int | None = None
    declined_by: set[int] = field(default_factory=set)


@dataclass(slots=True)
class Action:
    actor: str
    what: str
    details: tuple


class Agent:
    role = ""
    identity_role = ""  # the role it registers with, when not its name in the city
    phone_block = 0  # +6012 and 7 digits: the block's million, plus the index

    def __init__(self, index: int, config: SimulationConfig, client: UserClient) -> None:
        self.index = index
        self.config = config
        self.client = client
        self.rng = random.Random(f"{config.seed}:{self.role}:{index}")
        self.log: list[Action] = []
        self.ready = False
        self.email = f"sim-{config.run_id}-{self.name}@example.com"

    @property
    def name(self) -> str:
        return f"{self.role}-{self.index}"

    def did(self, what: str, *details: object) -> None:
        self.log.append(Action(self.name, what, details))

    def setup_tick(self) -> int:
        return self.index // self.config.signups_per_tick

    async def sign_up(self) -> None:
        full_name = f"{self.role.title()} {self.index} ({self.config.run_id})"
        number = (self.phone_block * 1_000_000 + self.index) % 10_000_000
        await self.client.register(self.email, PASSWORD, full_name, self.identity_role or self.role,
                                   phone=f"+6012{number:07d}")
        self.did("register")


class Owner(Agent):
    role = "owner"

    def __init__(self, index: int, config: SimulationConfig, client: UserClient) -> None:
        super().__init__(index, config, client)
        self.home = self.rng.choice(NEIGHBOURHOODS)
        self.job: Job | None = None
        self.next_booking_tick = 0
        self.bookings_made = 0

    async def step(self, tick: int, promos: list[str], new_job) -> list[Job]:
        """Book, pay, cancel, check or confirm; returns jobs that need background follow-up."""
        if not self.ready:
            if tick >= self.setup_tick():
                await self.sign_up()
                self.ready = True
                self.next_booking_tick = tick + self._think()
            return []
        if self.job is None:
            if tick >= self.next_booking_tick:
                await self._book(tick, promos, new_job)
            return []
        return await self._follow(tick)

    def _think(self) -> int:
        return self.rng.randint(*self.config.think_ticks)

    async def _book(self, tick: int, promos: list[str], new_job) -> None:
        pickup = random_place(self.rng, self.home)
        dropoff = place_near(self.rng, pickup.latitude, pickup.longitude, self.config.max_trip_km)
        pet = random_pet(self.rng)
        cancels = self.rng.random() < self.config.cancel_rate
        cancel_at = tick + self.rng.randint(1, 4) if cancels else None
        share = self.rng.random() < self.config.share_rate
        promo = promos[0] if promos and self.bookings_made == 0 \
            and self.rng.random() < self.config.promo_rate else None
        rating = self.rng.choices((5, 4, 3, 2, 1), weights=(60, 25, 9, 4, 2))[0]
        body = {"pet_spec": pet, "pickup_address": pickup.address(),
                "dropoff_address": dropoff.address(), "notes": "simulated booking"}
        self.next_booking_tick = tick + self._think()
        booking = await self.client.call("book", "POST", "/api/v1/bookings", body)
        self.bookings_made += 1
        self.job = new_job(self.index, booking["id"], pickup, dropoff, cancel_at, share, rating)
        self.did("book", pet["pet_type"], pickup.neighbourhood.name, dropoff.neighbourhood.name)
        payment = {"booking_id": booking["id"], "promo_code": promo}
        await self.client.call("pay", "POST", "/api/v1/payments/initiate", payment)
        self.did("pay", promo or "-")

    async def _follow(self, tick: int) -> list[Job]:
        job = self.job
        if job.status is JobStatus.REQUESTED and self._gives_up(job, tick):
            await self.client.call("cancel", "POST", f"/api/v1/bookings/{job.booking_id}/cancel",
                                   {"reason": "plans changed"})
            job.status = JobStatus.CANCELLED
            self.did("cancel", job.index)
            self._done(tick)
            return [job]
        if job.status is JobStatus.DELIVERED:
            await self.client.call("confirm", "POST", f"/api/v1/bookings/{job.booking_id}/confirm")
            job.status = JobStatus.COMPLETED
            self.did("confirm", job.index)
            self._done(tick)
            return [job]
        if (tick + self.index) % self.config.check_every_ticks == 0:
            await self._check(job)
        return []

    def _gives_up(self, job: Job, tick: int) -> bool:
        waited_too_long = tick - job.created_tick >= self.config.give_up_ticks
        return waited_too_long or (job.cancel_at is not None and tick >= job.cancel_at)

    async def _check(self, job: Job) -> None:
        """The app refreshes the booking screen; the platform must show what happened."""
        booking = await self.client.call("check", "GET", f"/api/v1/bookings/{job.booking_id}")
        if booking["status"] not in _may_show(job.status):
            self.client.stats.error("check", 200, f"booking {job.index} is {booking['status']}, "
                                                  f"expected {job.status.value}")

    def _done(self, tick: int) -> None:
        self.job = None
        self.next_booking_tick = max(self.next_booking_tick, tick + self._think())


class Runner(Agent):
    role = "runner"

    def __init__(self, index: int, config: SimulationConfig, client: UserClient) -> None:
        super().__init__(index, config, client)
        start = random_place(self.rng)
        self.vehicle = Vehicle(start.latitude, start.longitude)
        self.cruise_to = random_place(self.rng, start.neighbourhood)
        self.job: Job | None = None
        self.leg_ends = 0
        self.declining = False
        self.seen: list[str] = []

    @property
    def position(self) -> tuple[float, float]:
        return self.vehicle.latitude, self.vehicle.longitude

    async def step(self, tick: int) -> None:
        """Sign up, drive, ping, look for jobs, or move the current job on."""
        self.seen = []
        if not self.ready:
            if tick >= self.setup_tick():
                await self._sign_up_and_go_online()
            return
        self._drive()
        if (tick + self.index) % self.config.ping_every_ticks == 0:
            await self._ping()
        if self.job is None:
            if (tick + self.index) % self.config.poll_every_ticks == 0:
                await self._look_for_jobs()
            return
        await self._work(tick)

    async def _sign_up_and_go_online(self) -> None:
        await self.sign_up()
        vehicle = self.rng.choice(("car", "car", "van", "motorcycle"))
        await self.client.call("profile", "POST", "/api/v1/runners",
                               {"vehicle_type": vehicle, "vehicle_plate": f"W{self.index:04d}S",
                                "air_conditioned": vehicle != "motorcycle"})
        await self.client.call("crate", "POST", "/api/v1/runners/me/crates",
                               {"size": "large", "pet_types": ["dog", "cat", "rabbit", "bird"],
                                "max_weight_kg": 40})
        lat, lng = self.position
        await self.client.call("online", "POST", "/api/v1/runners/me/online",
                               {"latitude": round(lat, 6), "longitude": round(lng, 6)})
        self.ready = True

    def _drive(self) -> None:
        target = self._target()
        if self.vehicle.drive(self.rng, target, self.config.tick_seconds) and self.job is None:
            self.cruise_to = place_near(self.rng, *self.position, 3.0)

    def _target(self) -> tuple[float, float]:
        if self.job is None:
            return self.cruise_to.latitude, self.cruise_to.longitude
        place = self.job.pickup if self.job.status is JobStatus.ACCEPTED else self.job.dropoff
        return place.latitude, place.longitude

    async def _ping(self) -> None:
        ack = await self.client.call("ping", "POST", "/api/v1/runners/me/location",
                                     self.vehicle.fix(self.rng).body())
        self.client.stats.ping(bool(ack and ack.get("accepted")))

    async def _look_for_jobs(self) -> None:
        lat, lng = self.position
        query = (f"/api/v1/bookings?status=requested&latitude={lat:.6f}&longitude={lng:.6f}"
                 f"&radius_km={self.config.search_radius_km}&limit=10")
        page = await self.client.call("jobs", "GET", query)
        self.seen = [booking["id"] for booking in page]

    def distance_to(self, job: Job) -> float:
        return haversine_km(*self.position, job.pickup.latitude, job.pickup.longitude)

    async def accept(self, tick: int, job: Job) -> None:
        await self.client.call("accept", "POST", f"/api/v1/bookings/{job.booking_id}/accept")
        self.job = job
        job.status, job.runner = JobStatus.ACCEPTED, self.index
        self.declining = self.rng.random() < self.config.decline_rate
        self.leg_ends = tick + self.rng.randint(*self.config.leg_ticks)
        self.did("accept", job.index)

    async def _work(self, tick: int) -> None:
        job = self.job
        path = f"/api/v1/bookings/{job.booking_id}"
        if self.declining:
            reason = self.rng.choice(DECLINE_REASONS)
            await self.client.call("decline", "POST", f"{path}/decline", {"reason": reason})
            job.status, job.runner = JobStatus.REQUESTED, None
            job.declined_by.add(self.index)
            self.declining, self.job = False, None
            self.did("decline", job.index, reason)
        elif tick >= self.leg_ends and job.status is JobStatus.ACCEPTED:
            await self.client.call("pickup", "POST", f"{path}/pickup")
            job.status = JobStatus.IN_PROGRESS
            self.leg_ends = tick + self.rng.randint(*self.config.leg_ticks)
            self.did("pickup", job.index)
        elif tick >= self.leg_ends and job.status is JobStatus.IN_PROGRESS:
            await self.client.call("deliver", "POST", f"{path}/deliver")
            job.status = JobStatus.DELIVERED
            self.job = None
            self.cruise_to = place_near(self.rng, *self.position, 3.0)
            self.did("deliver", job.index)


def _may_show(status: JobStatus) -> tuple[str, ...]:
    """A delivered booking may already be completed by its escrow release (an event)."""
    if status is JobStatus.DELIVERED:
        return (status.value, JobStatus.COMPLETED.value)
    return (status.value,)


def is_transient(error: ApiError) -> bool:
    """Answers that mean 'not yet': another service has not seen the event yet."""
    return error.status in (404, 409, 422, 503)
