"""What every vertical of the simulated city shares: its people's clients, phases, logs, counters.

A vertical's tick runs its phases one after the other; a phase runs its agents' steps at once and
then takes their logs in agent order. The engine runs the verticals' ticks side by side and writes
their logs in a fixed vertical order, so a seed replays the same sequence of actions.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from kilat.simulate.agents import Action, Agent
from kilat.simulate.city import KM_PER_DEGREE, offset
from kilat.simulate.client import ApiError, Target, UserClient, make_http_client
from kilat.simulate.config import SimulationConfig
from kilat.simulate.stats import Stats

Point = tuple[float, float]
Spawn = Callable[[Awaitable], None]


class Vertical:
    """One vertical's population and its tick. Subclasses name ``agents`` and write ``tick``."""

    name = ""
    counted: dict[str, str] = {}  # action → counter, counted as the action is logged

    def __init__(self, config: SimulationConfig, target: Target, stats: Stats,
                 first_client: int, spawn: Spawn) -> None:
        self.config = config
        self.target = target
        self.stats = stats
        self.counts = stats.vertical(self.name)
        self.spawn = spawn
        self.admin: UserClient | None = None
        self.log: list[Action] = []
        self._next_client = first_client

    @property
    def agents(self) -> list[Agent]:
        raise NotImplementedError

    async def tick(self, tick: int) -> None:
        raise NotImplementedError

    def client(self) -> UserClient:
        """A phone of its own (its own loopback address, so its own rate-limit bucket)."""
        self._next_client += 1
        return UserClient(make_http_client(self.target, self._next_client - 1), self.stats)

    async def phase(self, agents: Iterable[Agent], steps: list[Awaitable]) -> list:
        results = await asyncio.gather(*(safely(self.stats, step) for step in steps))
        for agent in agents:
            for action in agent.log:
                self.log.append(action)
                if action.what in self.counted:
                    self.counts[self.counted[action.what]] += 1
            agent.log.clear()
        return results

    async def in_order(self, agents: list[Agent], steps: list[Callable[[], Awaitable]]) -> None:
        """One agent after the other, in agent order: for steps that compete for the same thing
        (seats), whose winner must not depend on timing."""
        for step in steps:
            await safely(self.stats, step())
        await self.phase(agents, [])

    def take_log(self) -> list[Action]:
        log, self.log = self.log, []
        return log

    async def wait_for(self, name: str, client: UserClient, path: str,
                       done: Callable[[Any], bool]) -> Any:
        """Read ``path`` until ``done`` (a follow-up of an asynchronous step), at most
        ``follow_up_seconds``; None (and an error) when it never came."""
        deadline = time.monotonic() + self.config.follow_up_seconds
        while time.monotonic() < deadline:
            data = await client.call(name, "GET", path)
            if done(data):
                return data
            await asyncio.sleep(0.5)
        self.stats.error(name, 0, f"{path}: not reached in {self.config.follow_up_seconds} s")
        return None

    async def aclose(self) -> None:
        for agent in self.agents:
            await agent.client.aclose()


async def safely(stats: Stats, step: Awaitable):
    try:
        return await step
    except ApiError:
        return None  # counted by the client
    except Exception as exc:  # a bug in the simulator must not stop the city
        stats.error("simulator", 0, f"{type(exc).__name__}: {exc}")
        return None


def point_near(rng: random.Random, origin: Point, low_km: float, high_km: float) -> Point:
    """A point between ``low_km`` and ``high_km`` from ``origin`` in a random direction."""
    distance, bearing = rng.uniform(low_km, high_km), rng.uniform(0, 2 * math.pi)
    lat, lng = offset(*origin, distance * math.cos(bearing), distance * math.sin(bearing))
    return round(lat, 6), round(lng, 6)


def move_towards(origin: Point, target: Point, step_km: float) -> tuple[Point, bool]:
    """``step_km`` along the straight line to ``target`` (flat at city scale); True once there."""
    north = (target[0] - origin[0]) * KM_PER_DEGREE
    east = (target[1] - origin[1]) * KM_PER_DEGREE * math.cos(math.radians(origin[0]))
    remaining = math.hypot(north, east)
    if remaining <= step_km or remaining < 0.005:
        return target, True
    fraction = step_km / remaining
    lat = origin[0] + (target[0] - origin[0]) * fraction
    lng = origin[1] + (target[1] - origin[1]) * fraction
    return (round(lat, 6), round(lng, 6)), False


def where(point: Point) -> dict[str, float]:
    return {"latitude": point[0], "longitude": point[1]}
