"""NATS JetStream adapter of the event bus, and core NATS for the telemetry fast path."""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NoStreamResponseError, NotFoundError
from pydantic import ValidationError

from kilat.platform.events.bus import (
    DEFAULT_LANES,
    Delivery,
    DeliveryHandler,
    FastHandler,
    deliver_in_lanes,
    is_unavailable,
    retry_delay,
    subject_of,
    unavailable_retry_delay,
)
from kilat.platform.events.envelope import Event, matches

log = structlog.get_logger(__name__)

STREAM_CONFIG_CONFLICT = 10058
# deliveries allowed past max_attempts: a process dying in the last attempt still dead-letters
REDELIVERY_MARGIN = 2
_FORBIDDEN_IN_TOKEN = re.compile(r"[\s*>]")
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9_-]")


def event_subject(prefix: str, event_type: str) -> str:
    """``booking.accepted`` → ``<prefix>.events.booking.accepted``; refuses wildcards and blanks."""
    tokens = event_type.split(".")
    if not all(token and not _FORBIDDEN_IN_TOKEN.search(token) for token in tokens):
        raise ValueError(f"event type {event_type!r} is not a valid subject")
    return f"{prefix}.events.{event_type}"


def filter_subject(prefix: str, pattern: str) -> str:
    """The stream subject filter for a handler pattern, with the same meaning as ``matches``."""
    if pattern in ("*", ">"):
        return f"{prefix}.events.>"
    if pattern.endswith(".*"):
        return f"{prefix}.events.{pattern[:-2]}.>"
    return event_subject(prefix, pattern)


def minimal_patterns(patterns: list[str]) -> list[str]:
    """Drop patterns another one already covers (servers refuse overlapping filters)."""
    unique = list(dict.fromkeys(patterns))
    return [p for p in unique if not any(q != p and matches(q, p) for q in unique)]


def durable_name(consumer: str, pattern: str | None = None) -> str:
    """A valid JetStream consumer name for a service (and one of its patterns)."""
    name = _UNSAFE_IN_NAME.sub("_", consumer)
    if pattern is None:
        return name
    slug = pattern.replace(".", "-").replace("*", "all").replace(">", "all")
    return f"{name}--{_UNSAFE_IN_NAME.sub('_', slug)}"


@dataclass
class DurableSpec:
    name: str
    subjects: list[str]


@dataclass
class _Subscription:
    spec: DurableSpec
    handler: DeliveryHandler
    pull: Any = None
    epoch: int = -1
    failures: int = field(default=0)


class NatsBus:
    """EventBus on NATS JetStream; see ``EventBus`` for the contract it keeps.

    Events are stored in one file-backed stream on ``<prefix>.events.<type>``; the event id is the
    ``Nats-Msg-Id``, so an outbox row published twice inside the duplicate window is stored once.
    Each service reads through one durable pull consumer that all its processes share, so an event
    reaches one instance; a handler that returns acks it, one that raises naks it with backoff.
    On servers older than 2.10 (no multi-subject filters) a service with several patterns gets one
    durable per pattern. Telemetry uses core NATS on ``<prefix>.fast.<subject>``.
    """

    def __init__(
        self,
        url: str,
        *,
        stream: str = "KILAT",
        subject_prefix: str = "kilat",
        max_attempts: int = 5,
        retry_base_seconds: float = 0.5,
        ack_wait_seconds: float = 30.0,
        request_timeout: float = 5.0,
        fetch_timeout: float = 5.0,
        fetch_batch: int = 16,
        lanes: int = DEFAULT_LANES,
        reconnect_wait: float = 1.0,
        max_age_seconds: float = 7 * 24 * 3600,
        duplicate_window_seconds: float = 300.0,
        replicas: int = 1,
    ) -> None:
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.ack_wait_seconds = ack_wait_seconds
        self.request_timeout = request_timeout
        self.fetch_timeout = fetch_timeout
        self.fetch_batch = fetch_batch
        self.lanes = lanes
        self.reconnect_wait = reconnect_wait
        self.max_age_seconds = max_age_seconds
        self.duplicate_window_seconds = duplicate_window_seconds
        self.replicas = replicas
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._epoch = 0
        self._ready = False
        self._closing = False
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            return
        self._closing = False
        self._nc = await nats.connect(
            self.url,
            name="kilat",
            max_reconnect_attempts=-1,
            reconnect_time_wait=self.reconnect_wait,
            connect_timeout=2,
            ping_interval=10,
            max_outstanding_pings=3,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        self._js = self._nc.jetstream(timeout=self.request_timeout)
        self._ready = True
        await self.ensure_stream()

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._nc is not None:
            with suppress(Exception):
                await self._nc.close()  # flushes the acks still buffered
        self._nc = None
        self._js = None
        self._ready = False

    @property
    def is_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected and self._ready

    async def ping(self) -> None:
        if not self.is_connected:
            raise ConnectionError("not connected to NATS")
        await self._client().flush(timeout=2)

    async def ensure_stream(self) -> None:
        """Create the stream, or bring an existing one to this configuration."""
        config = api.StreamConfig(
            name=self.stream,
            subjects=[f"{self.subject_prefix}.events.>"],
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            discard=api.DiscardPolicy.OLD,
            max_age=self.max_age_seconds,
            duplicate_window=self.duplicate_window_seconds,
            num_replicas=self.replicas,
        )
        js = self._jetstream()
        try:
            await js.add_stream(config)
        except APIError as exc:
            if exc.err_code != STREAM_CONFIG_CONFLICT:
                raise
            await js.update_stream(config)

    # -- durable events -------------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        subject = event_subject(self.subject_prefix, event.type)
        try:
            ack = await self._store(subject, event)
        except NoStreamResponseError:
            # the server came back without its storage: recreate the stream and try once more
            await self.ensure_stream()
            ack = await self._store(subject, event)
        if ack.duplicate:
            log.debug("duplicate event ignored by broker", event_id=str(event.id), type=event.type)

    async def recent(self, event_type: str, since: datetime) -> list[Event]:
        config = api.ConsumerConfig(deliver_policy=api.DeliverPolicy.BY_START_TIME,
                                    opt_start_time=since, ack_policy=api.AckPolicy.NONE,
                                    inactive_threshold=60.0)
        subscription = await self._jetstream().pull_subscribe(
            event_subject(self.subject_prefix, event_type), stream=self.stream, config=config)
        events: list[Event] = []
        try:
            pending = (await subscription.consumer_info()).num_pending
            while len(events) < pending:
                batch = min(pending - len(events), 256)
                for message in await subscription.fetch(batch, timeout=self.fetch_timeout):
                    events.append(Event.from_json(message.data))
        finally:
            with suppress(Exception):
                await subscription.unsubscribe()
        return events

    async def _store(self, subject: str, event: Event) -> api.PubAck:
        headers = {"Nats-Msg-Id": str(event.id)}
        return await self._jetstream().publish(subject, event.to_json(), headers=headers,
                                               stream=self.stream)

    async def subscribe(self, consumer: str, patterns: list[str], handler: DeliveryHandler) -> None:
        for spec in self.durables(consumer, patterns):
            subscription = _Subscription(spec, handler)
            await self._bind(subscription)
            self._spawn(self._consume(subscription), f"nats-consumer:{spec.name}")

    def durables(self, consumer: str, patterns: list[str]) -> list[DurableSpec]:
        """The durable consumers that carry ``patterns`` for ``consumer``."""
        patterns = minimal_patterns(patterns)
        subjects = [filter_subject(self.subject_prefix, p) for p in patterns]
        if len(subjects) == 1 or self._multi_filter_supported():
            return [DurableSpec(durable_name(consumer), subjects)]
        return [DurableSpec(durable_name(consumer, p), [s]) for p, s in zip(patterns, subjects)]

    def _multi_filter_supported(self) -> bool:
        version = self._client().connected_server_version
        return (version.major, version.minor) >= (2, 10)

    async def _bind(self, subscription: _Subscription) -> None:
        if subscription.pull is not None:
            with suppress(Exception):
                await subscription.pull.unsubscribe()
            subscription.pull = None
        subscription.epoch = self._epoch
        js = self._jetstream()
        await self.ensure_stream()
        await self._ensure_consumer(subscription.spec)
        subscription.pull = await js.pull_subscribe_bind(durable=subscription.spec.name,
                                                         stream=self.stream)

    async def _ensure_consumer(self, spec: DurableSpec) -> None:
        filters: dict[str, Any] = (
            {"filter_subject": spec.subjects[0]} if len(spec.subjects) == 1
            else {"filter_subjects": spec.subjects}
        )
        config = api.ConsumerConfig(
            name=spec.name,
            durable_name=spec.name,
            # a service deployed after others started publishing still gets their retained events
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_seconds,
            # unbounded: the bus gives up on an event itself (term) once it has failed for reasons
            # of its own past the margin, but never while a dependency is down (see _deliver)
            max_deliver=-1,
            **filters,
        )
        await self._jetstream().add_consumer(self.stream, config)

    async def _consume(self, subscription: _Subscription) -> None:
        async def deliver(message: Msg) -> None:
            await self._deliver(message, subscription.handler)

        while not self._closing:
            await deliver_in_lanes(await self._next_batch(subscription), _lane, deliver,
                                   lanes=self.lanes)

    async def _next_batch(self, subscription: _Subscription) -> list[Msg]:
        """The next messages, or none after an idle wait or a failure (already paused on)."""
        try:
            if subscription.pull is None or subscription.epoch != self._epoch:
                await self._bind(subscription)
        except Exception as exc:
            await self._pause_after_failure(subscription, exc)
            return []
        try:
            messages = await subscription.pull.fetch(self.fetch_batch, timeout=self.fetch_timeout)
        except TimeoutError:
            await self._check_consumer(subscription)
            return []
        except Exception as exc:
            await self._pause_after_failure(subscription, exc)
            return []
        subscription.failures = 0
        return messages

    async def _check_consumer(self, subscription: _Subscription) -> None:
        """An idle fetch cannot tell a quiet stream from a deleted consumer; ask the server."""
        try:
            await self._jetstream().consumer_info(self.stream, subscription.spec.name)
        except NotFoundError:
            subscription.pull = None
        except Exception as exc:
            log.debug("consumer check failed", consumer=subscription.spec.name, error=str(exc))

    async def _pause_after_failure(self, subscription: _Subscription, exc: Exception) -> None:
        subscription.failures += 1
        subscription.pull = None
        delay = retry_delay(subscription.failures, self.reconnect_wait, cap_seconds=10.0)
        log.warning("event consumer paused", consumer=subscription.spec.name, error=repr(exc),
                    retry_in=delay)
        await asyncio.sleep(delay)

    async def _deliver(self, message: Msg, handler: DeliveryHandler) -> None:
        try:
            event = Event.from_json(message.data)
        except ValidationError as exc:
            log.error("malformed event dropped", subject=message.subject, error=str(exc))
            await _settle(message.term())
            return
        attempt = message.metadata.num_delivered
        try:
            await handler(Delivery(event, attempt, self.max_attempts))
        except asyncio.CancelledError:
            await _settle(message.nak())
            raise
        except Exception as exc:
            if is_unavailable(exc):
                log.warning("event handling postponed: dependency unavailable", type=event.type,
                            event_id=str(event.id), attempt=attempt, error=str(exc))
                delay = unavailable_retry_delay(attempt, self.retry_base_seconds)
                await _settle(message.nak(delay=delay))
                return
            if attempt >= self.max_attempts + REDELIVERY_MARGIN:
                log.error("event delivery abandoned", type=event.type, event_id=str(event.id),
                          attempts=attempt, error=str(exc))
                await _settle(message.term())
                return
            log.warning("event handling failed", type=event.type, event_id=str(event.id),
                        attempt=attempt, error=str(exc))
            await _settle(message.nak(delay=retry_delay(attempt, self.retry_base_seconds)))
            return
        await _settle(message.ack())

    # -- telemetry fast path --------------------------------------------------------------------

    async def publish_fast(self, subject: str, payload: dict[str, Any]) -> None:
        if not self.is_connected:
            return
        data = json.dumps(payload, default=str).encode()
        try:
            await self._nc.publish(f"{self.subject_prefix}.fast.{subject}", data)
        except Exception as exc:
            log.debug("fast publish dropped", subject=subject, error=str(exc))

    async def subscribe_fast(self, subject: str, handler: FastHandler) -> None:
        async def on_message(message: Msg) -> None:
            try:
                await handler(json.loads(message.data))
            except Exception as exc:
                log.warning("fast handler failed", subject=subject, error=str(exc))

        await self._client().subscribe(f"{self.subject_prefix}.fast.{subject}", cb=on_message)
        if self.is_connected:
            with suppress(Exception):
                await self._client().flush(timeout=2)  # the server knows the interest on return

    # -- plumbing -------------------------------------------------------------------------------

    def _client(self) -> Client:
        if self._nc is None:
            raise RuntimeError("NatsBus.start() was not called")
        return self._nc

    def _jetstream(self) -> JetStreamContext:
        if self._js is None or not self.is_connected:
            raise ConnectionError("not connected to NATS")
        return self._js

    def _spawn(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_error(self, exc: Exception) -> None:
        log.warning("nats error", error=repr(exc))

    async def _on_disconnected(self) -> None:
        self._ready = False
        if not self._closing:
            log.warning("nats disconnected", url=self.url)

    async def _on_reconnected(self) -> None:
        # the server may have restarted without its state; every consumer re-declares itself.
        # Requests sent before this callback may be lost by the client, hence the ready flag.
        self._epoch += 1
        self._ready = True
        log.info("nats reconnected", url=self.url)


def _lane(message: Msg) -> str | None:
    return subject_of(message.data)


async def _settle(acknowledgement) -> None:
    """Ack, nak or term; a lost acknowledgement only means a redelivery the inbox absorbs."""
    try:
        await acknowledgement
    except Exception as exc:
        log.debug("acknowledgement not sent", error=str(exc))
