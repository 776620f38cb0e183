"""The event bus port and its in-process adapter."""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kilat.platform.errors import ServiceUnavailable
from kilat.platform.events.envelope import Event, matches

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Delivery:
    event: Event
    attempt: int
    max_attempts: int

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


DeliveryHandler = Callable[[Delivery], Awaitable[None]]
FastHandler = Callable[[dict[str, Any]], Awaitable[None]]

MAX_RETRY_DELAY_SECONDS = 300.0
# while a dependency is down, redeliver at least this often so the backlog drains soon after it is back
MAX_UNAVAILABLE_RETRY_DELAY_SECONDS = 10.0


def is_unavailable(exc: BaseException) -> bool:
    """The handler failed because something it depends on is down (database, network), not because
    of the event: such a failure does not count against the event. It is redelivered until the
    dependency is back, and never dead-lettered for it."""
    return isinstance(exc, ServiceUnavailable | PoolTimeout | ConnectionError | TimeoutError)


def unavailable_retry_delay(attempt: int, base_seconds: float) -> float:
    return retry_delay(attempt, base_seconds, cap_seconds=MAX_UNAVAILABLE_RETRY_DELAY_SECONDS)


def retry_delay(attempt: int, base_seconds: float,
                cap_seconds: float = MAX_RETRY_DELAY_SECONDS) -> float:
    """Seconds before redelivering after failed ``attempt``: base, 2×base, 4×base … to the cap."""
    exponent = min(max(attempt - 1, 0), 30)
    return min(cap_seconds, base_seconds * 2**exponent)


# events of different subjects a consumer applies at once (events of one subject: one at a time)
DEFAULT_LANES = 8

T = TypeVar("T")


def subject_of(raw: bytes | str) -> str | None:
    """The ``subject`` of a serialised event (its aggregate: a booking, a user), or None."""
    try:
        subject = json.loads(raw).get("subject")
    except (ValueError, AttributeError):
        return None
    return subject if isinstance(subject, str) else None


async def deliver_in_lanes(items: Sequence[T], lane_of: Callable[[T], Hashable],
                           deliver: Callable[[T], Awaitable[None]], *,
                           lanes: int = DEFAULT_LANES) -> None:
    """Deliver ``items`` one lane per key: in order within a lane, up to ``lanes`` lanes at once.

    A consumer keeps the order of the events of one aggregate (a booking's accepted before its
    completed) while the events of other aggregates do not wait behind a slow handler. Returns
    when every item was delivered; if one delivery raises, the others are cancelled (they were
    not acknowledged, so they come again) and the error propagates.
    """
    queues: dict[Hashable, list[T]] = {}
    for item in items:
        queues.setdefault(lane_of(item), []).append(item)
    if len(queues) <= 1 or lanes <= 1:
        for item in items:
            await deliver(item)
        return
    gate = asyncio.Semaphore(lanes)

    async def run(queue: list[T]) -> None:
        async with gate:
            for item in queue:
                await deliver(item)

    async with asyncio.TaskGroup() as group:
        for queue in queues.values():
            group.create_task(run(queue))


class EventBus(Protocol):
    """Contract every bus adapter keeps.

    - ``publish`` MUST be durable once it returns and MUST de-duplicate by ``event.id``.
    - ``subscribe(consumer, patterns, handler)``: each event whose type matches a pattern MUST be
      delivered at least once to one instance of each named consumer. Events of one ``subject``
      reach an instance in publish order, one at a time; events of different subjects MAY be
      handled concurrently (``deliver_in_lanes``). A handler that raises MUST be
      redelivered with backoff, with ``attempt`` counting up to ``max_attempts``; a handler that
      returns acknowledges the event. A failure for which ``is_unavailable`` holds is redelivered
      (with a shorter backoff cap) for as long as it lasts: an outage never exhausts an event.
    - ``publish_fast``/``subscribe_fast`` carry telemetry (GPS pings): best effort, MAY drop,
      every subscriber of a subject receives every message.
    - ``recent(event_type, since)``: the stored events of that type published at or after
      ``since``, oldest first, so a starting process can rebuild short-lived state (bans).
      A bus that keeps nothing across restarts MAY return none.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    async def subscribe(self, consumer: str, patterns: list[str], handler: DeliveryHandler) -> None: ...

    async def publish_fast(self, subject: str, payload: dict[str, Any]) -> None: ...

    async def subscribe_fast(self, subject: str, handler: FastHandler) -> None: ...

    async def ping(self) -> None: ...

    async def recent(self, event_type: str, since: datetime) -> list[Event]: ...


class MemoryBus:
    """In-process bus for the embedded profile and unit tests."""

    def __init__(self, *, max_attempts: int = 5, retry_base_seconds: float = 0.5) -> None:
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self._subscriptions: list[tuple[str, list[str], asyncio.Queue[Delivery]]] = []
        self._fast: dict[str, list[FastHandler]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def publish(self, event: Event) -> None:
        key = str(event.id)
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > 100_000:
            self._seen.popitem(last=False)
        for _consumer, patterns, queue in self._subscriptions:
            if any(matches(p, event.type) for p in patterns):
                queue.put_nowait(Delivery(event, 1, self.max_attempts))

    async def subscribe(self, consumer: str, patterns: list[str], handler: DeliveryHandler) -> None:
        queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._subscriptions.append((consumer, patterns, queue))
        self._spawn(self._consume(consumer, queue, handler))

    async def publish_fast(self, subject: str, payload: dict[str, Any]) -> None:
        for handler in self._fast.get(subject, []):
            try:
                await handler(payload)
            except Exception as exc:
                log.warning("fast handler failed", subject=subject, error=str(exc))

    async def subscribe_fast(self, subject: str, handler: FastHandler) -> None:
        self._fast.setdefault(subject, []).append(handler)

    async def ping(self) -> None:
        return None

    async def recent(self, event_type: str, since: datetime) -> list[Event]:
        return []  # nothing outlives the process

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, consumer: str, queue: asyncio.Queue[Delivery], handler) -> None:
        while True:
            delivery = await queue.get()
            try:
                await handler(delivery)
            except Exception as exc:
                log.warning("event handling failed", consumer=consumer, error=str(exc),
                            type=delivery.event.type, attempt=delivery.attempt)
                if not delivery.is_last_attempt:
                    self._spawn(self._redeliver(queue, delivery))

    async def _redeliver(self, queue: asyncio.Queue[Delivery], delivery: Delivery) -> None:
        await asyncio.sleep(retry_delay(delivery.attempt, self.retry_base_seconds))
        queue.put_nowait(Delivery(delivery.event, delivery.attempt + 1, delivery.max_attempts))
