"""Helpers shared by the event bus tests."""

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field

from kilat.platform.events import Event, new_event
from kilat.platform.events.bus import Delivery
from tests.support.harness import wait_for


def make_event(type: str = "note.created", **data) -> Event:
    return new_event(type, data or {"ref": uuid.uuid4().hex}, source="tests")


@dataclass
class Recorder:
    """A delivery handler that records what it got and fails the first ``fail_times`` attempts."""

    fail_times: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    handled: Counter = field(default_factory=Counter)

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        if delivery.attempt <= self.fail_times:
            raise RuntimeError(f"planned failure {delivery.attempt}")
        self.handled[delivery.event.id] += 1

    def attempts(self, event: Event) -> list[int]:
        return [d.attempt for d in self.deliveries if d.event.id == event.id]


def subject_event(subject: str, n: int) -> Event:
    return new_event("note.created", {"n": n}, source="tests", subject=subject)


@dataclass
class LaneProbe:
    """A handler that holds every event of subject ``held`` until ``release`` is set, recording
    ``(subject, n)`` in the order events finish."""

    held: str = "held"
    release: asyncio.Event = field(default_factory=asyncio.Event)
    finished: list[tuple[str | None, int]] = field(default_factory=list)

    async def __call__(self, delivery: Delivery) -> None:
        event = delivery.event
        if event.subject == self.held:
            await self.release.wait()
        self.finished.append((event.subject, event.data["n"]))

    def of(self, subject: str) -> list[int]:
        return [n for s, n in self.finished if s == subject]


LANE_EVENTS = [subject_event("held", 1), subject_event("held", 2), subject_event("free", 1),
               subject_event("held", 3), subject_event("free", 2)]


async def check_lanes(probe: LaneProbe) -> None:
    """Events of another subject pass a held one; a subject's own events keep their order."""
    await wait_for(lambda: probe.of("free") == [1, 2])
    assert probe.of("held") == []
    probe.release.set()
    await wait_for(lambda: len(probe.finished) == len(LANE_EVENTS))
    assert probe.of("held") == [1, 2, 3]
