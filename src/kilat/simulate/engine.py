"""The simulation loop: owners act, runners act, jobs are matched, runners accept; once a tick.

Each phase runs all its agents' steps at once and waits for all of them, so the platform's state
at the start of a phase is what the simulator expects, and a seed replays the same actions.
Follow-ups that depend on asynchronous events (reviews, escrow release, share-link viewers) run
in the background and never feed back into the agents' decisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Iterable

from kilat.simulate.agents import Action, Agent, Job, JobStatus, Owner, Runner, is_transient
from kilat.simulate.client import ApiError, Target, UserClient, make_http_client
from kilat.simulate.config import SimulationConfig
from kilat.simulate.parcels import ParcelsCity
from kilat.simulate.rail import RailCity
from kilat.simulate.rides import RidesCity
from kilat.simulate.stats import Stats
from kilat.simulate.vertical import Vertical, safely

BOOKING_COUNTS = {"book": "created", "accept": "accepted", "decline": "declined",
                  "pickup": "picked_up", "deliver": "delivered", "confirm": "completed",
                  "cancel": "cancelled"}
ACTIVE = (JobStatus.REQUESTED, JobStatus.ACCEPTED, JobStatus.IN_PROGRESS)
CITIES: dict[str, type[Vertical]] = {"rides": RidesCity, "parcels": ParcelsCity, "rail": RailCity}
# a route each vertical serves to anyone (its answer, 401 included, shows the vertical is there)
PROBES = {"rides": "/api/v1/rides/offers", "parcels": "/api/v1/parcels/ads",
          "rail": "/api/v1/rail/keys"}


class Simulation:
    def __init__(self, config: SimulationConfig, target: Target, stats: Stats | None = None) -> None:
        self.config = config
        self.target = target
        self.stats = stats or Stats()
        pets = "pets" in config.verticals
        self.owners = [Owner(i, config, self._client(i))
                       for i in range(config.owners if pets else 0)]
        self.runners = [Runner(i, config, self._client(len(self.owners) + i))
                        for i in range(config.runners if pets else 0)]
        self.jobs: list[Job] = []
        self.promos: list[str] | None = None
        self.tick = 0
        self.ending = False
        self._background: set[asyncio.Task] = set()
        self._tick_log: list[Action] = []
        self.verticals: list[Vertical] = []
        first_client = len(self.owners) + len(self.runners)
        for name in (name for name in CITIES if name in config.verticals):
            city = CITIES[name](config, target, self.stats, first_client, self._spawn)
            first_client += len(city.agents)
            self.verticals.append(city)
        self.admin = self._client(first_client) if config.has_admin else None

    def _client(self, index: int) -> UserClient:
        return UserClient(make_http_client(self.target, index), self.stats)

    async def run(self) -> dict:
        """Run every tick at its pace (later when the platform is slow) and summarise."""
        started = time.monotonic()
        hard_stop = started + self.config.ticks * self.config.tick_seconds * 3 + 60
        try:
            await self._open_verticals()
            for tick in range(self.config.ticks):
                await self._pace(started + tick * self.config.tick_seconds)
                if time.monotonic() > hard_stop:
                    break
                self.tick = tick
                await self._one_tick(tick)
                self.stats.ticks = tick + 1
            await self._settle()
        finally:
            await self._close()
        return self.summary()

    async def _pace(self, due: float) -> None:
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _open_verticals(self) -> None:
        """Keep the verticals the platform serves; sign the admin in for them."""
        anonymous = make_http_client(self.target, None)
        try:
            for city in list(self.verticals):
                try:
                    status = (await anonymous.get(PROBES[city.name])).status_code
                except Exception as exc:  # noqa: BLE001 - unreachable: the first tick will say
                    status = 0
                    self.stats.error("probe", 0, f"{city.name}: {type(exc).__name__}")
                if status == 404:
                    self.stats.skipped[city.name] = "not served by this platform"
                    self.stats.verticals.pop(city.name, None)
                    self.verticals.remove(city)
                    await city.aclose()
        finally:
            await anonymous.aclose()
        if self.admin is not None and self.verticals:
            try:
                await self.admin.login(self.config.admin_email, self.config.admin_password)
            except ApiError:
                return  # counted by the client; the verticals go on without an admin
            for city in self.verticals:
                city.admin = self.admin

    async def _one_tick(self, tick: int) -> None:
        await asyncio.gather(self._safely(self._pets_tick(tick)),
                             *(safely(self.stats, city.tick(tick)) for city in self.verticals))
        for action in [*self._tick_log, *(a for city in self.verticals for a in city.take_log())]:
            self.stats.action(tick, action.actor, action.what, *action.details)
        self._tick_log.clear()

    async def _pets_tick(self, tick: int) -> None:
        if not self.owners:
            return
        await self._load_promos()
        follow_ups = await self._phase(self.owners, [
            owner.step(tick, self.promos or [], self._new_job) for owner in self.owners])
        self._number_new_jobs()
        for job in (job for result in follow_ups if result for job in result):
            if job.status is JobStatus.COMPLETED:
                self._spawn(self._after_completion(job))
        await self._phase(self.runners, [runner.step(tick) for runner in self.runners])
        matches = self._match()
        await self._phase([runner for runner, _ in matches],
                          [runner.accept(tick, job) for runner, job in matches])
        for _runner, job in matches:
            if job.share and job.status is JobStatus.ACCEPTED and job.runner is not None:
                job.share = False
                self._spawn(self._share_and_watch(job))

    async def _phase(self, agents: Iterable[Agent], steps: list[Awaitable]) -> list:
        results = await asyncio.gather(*(self._safely(step) for step in steps))
        for agent in agents:
            self._record(agent)
        return results

    async def _safely(self, step: Awaitable):
        return await safely(self.stats, step)

    def _record(self, agent: Agent) -> None:
        for action in agent.log:
            self._tick_log.append(action)
            if action.what in BOOKING_COUNTS:
                self.stats.bookings[BOOKING_COUNTS[action.what]] += 1
        agent.log.clear()

    async def _load_promos(self) -> None:
        if self.promos is not None:
            return
        owner = next((owner for owner in self.owners if owner.ready), None)
        if owner is None:
            return
        with contextlib.suppress(ApiError):
            promos = await owner.client.call("promos", "GET", "/api/v1/promos/active")
            self.promos = sorted(promo["code"] for promo in promos)
            self._tick_log.append(Action("city", "promos", tuple(self.promos)))

    def _new_job(self, owner: int, booking_id: str, pickup, dropoff, cancel_at, share,
                 rating) -> Job:
        return Job(-1, owner, booking_id, pickup, dropoff, cancel_at, share, rating, self.tick)

    def _number_new_jobs(self) -> None:
        for owner in self.owners:
            if owner.job is not None and owner.job.index < 0:
                owner.job.index = len(self.jobs)
                self.jobs.append(owner.job)

    def _match(self) -> list[tuple[Runner, Job]]:
        """Each open job, oldest first, goes to the nearest free runner who saw it this tick."""
        saw: dict[str, list[Runner]] = {}
        for runner in self.runners:
            for booking_id in runner.seen:
                saw.setdefault(booking_id, []).append(runner)
        taken: set[int] = set()
        matches = []
        for job in self.jobs:
            if job.status is not JobStatus.REQUESTED or job.booking_id not in saw:
                continue
            free = [r for r in saw[job.booking_id]
                    if r.index not in taken and r.job is None and r.index not in job.declined_by]
            if free:
                runner = min(free, key=lambda r: (round(r.distance_to(job), 6), r.index))
                taken.add(runner.index)
                matches.append((runner, job))
        return matches

    def _spawn(self, coro: Awaitable) -> None:
        task = asyncio.ensure_future(self._safely(coro))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _after_completion(self, job: Job) -> None:
        """The owner reviews the runner and sees the escrow released (both follow events)."""
        owner = self.owners[job.owner].client
        review = {"booking_id": job.booking_id, "rating": job.rating,
                  "comment": "Simulated trip, pet arrived safely."}
        if await self._retry("review", owner, "POST", "/api/v1/reviews", review):
            self.stats.bookings["reviewed"] += 1
        path = f"/api/v1/payments/booking/{job.booking_id}"
        deadline = time.monotonic() + self.config.follow_up_seconds
        while time.monotonic() < deadline:
            payment = await owner.call("escrow", "GET", path)
            if payment["escrow_status"] == "released":
                self.stats.bookings["escrow_released"] += 1
                return
            await asyncio.sleep(0.25)
        self.stats.error("escrow", 0, f"booking {job.index}: escrow not released in time")

    async def _retry(self, name: str, client: UserClient, method: str, path: str, body=None):
        """Call until the platform has caught up with its events (or follow_up_seconds pass)."""
        deadline = time.monotonic() + self.config.follow_up_seconds
        while True:
            try:
                return await client.call(name, method, path, body, expected=(404, 409, 422, 503))
            except ApiError as exc:
                if not is_transient(exc) or time.monotonic() > deadline:
                    client.stats.error(name, exc.status, exc.error)
                    return None
            await asyncio.sleep(0.2)

    async def _share_and_watch(self, job: Job) -> None:
        """The owner shares the trip; a friend opens the link and watches the live map."""
        owner = self.owners[job.owner].client
        share = await self._retry("share", owner, "POST", f"/api/v1/tracking/{job.booking_id}/share")
        if share is None:
            return
        self.stats.bookings["shared"] += 1
        viewer = UserClient(make_http_client(self.target, None), self.stats)
        try:
            await viewer.call("shared_view", "GET", f"/api/v1/tracking/shared/{share['share_token']}")
            if self.target.app is None:
                await self._watch(job, share["share_token"])
        finally:
            await viewer.aclose()

    async def _watch(self, job: Job, token: str) -> None:
        from websockets.asyncio.client import connect

        url = f"{self.target.ws_url}/ws/tracking/{job.booking_id}?share={token}"
        try:
            async with connect(url, open_timeout=10, proxy=None) as socket:
                self.stats.bookings["watched"] += 1
                while job.status in ACTIVE and not self.ending:
                    with contextlib.suppress(TimeoutError):
                        frame = json.loads(await asyncio.wait_for(socket.recv(), 1.0))
                        self.stats.frames_seen += frame.get("type") == "location_update"
        except (OSError, TimeoutError) as exc:
            self.stats.error("watch", 0, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            if job.status in ACTIVE and not self.ending:  # a trip's end closes the socket
                self.stats.error("watch", 0, f"{type(exc).__name__}: {exc}")

    async def _settle(self) -> None:
        """Let follow-ups already started finish (bounded), then stop the rest."""
        self.ending = True
        if self._background:
            await asyncio.wait(list(self._background), timeout=self.config.follow_up_seconds)

    async def _close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for agent in [*self.owners, *self.runners]:
            await agent.client.aclose()
        for city in self.verticals:
            await city.aclose()
        if self.admin is not None:
            await self.admin.aclose()

    def _people(self) -> dict[str, int]:
        people: dict[str, int] = {}
        for agent in [*self.owners, *self.runners, *(a for c in self.verticals for a in c.agents)]:
            people[f"{agent.role}s"] = people.get(f"{agent.role}s", 0) + 1
        return people

    def summary(self) -> dict:
        statuses: dict[str, int] = {}
        for job in self.jobs:
            statuses[job.status.value] = statuses.get(job.status.value, 0) + 1
        return {"config": {"owners": len(self.owners), "runners": len(self.runners),
                           "verticals": ["pets"] * bool(self.owners)
                           + [city.name for city in self.verticals],
                           "people": self._people(), "admin": self.admin is not None
                           and any(city.admin for city in self.verticals),
                           "minutes": self.config.minutes, "seed": self.config.seed,
                           "tick_seconds": self.config.tick_seconds,
                           "target": self.target.url if self.target.app is None else "in-process"},
                "bookings_by_status": dict(sorted(statuses.items())),
                **self.stats.summary()}
