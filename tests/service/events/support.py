"""Helpers shared by the event bus tests."""

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field

from kilat.platform.events import Event, new_event
from kilat.platform.events.bus import Delivery


async def wait_for(predicate, timeout: float = 5.0, interval: float = 0.01):
    """Poll an async (or plain) predicate until it is truthy; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


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
