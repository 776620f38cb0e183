"""The durable embedded bus: delivery, de-duplication, retries, restarts and retention."""

import asyncio
import time
from collections import Counter
from contextlib import asynccontextmanager

import pytest

from kilat.platform.events.local import REDELIVERY_MARGIN, LocalBus
from tests.service.events.support import (
    LANE_EVENTS,
    LaneProbe,
    Recorder,
    check_lanes,
    make_event,
    wait_for,
)


@asynccontextmanager
async def local_bus(path, **options):
    options = {"max_attempts": 3, "retry_base_seconds": 0.01} | options
    bus = LocalBus(path, **options)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


@pytest.fixture
def bus_path(tmp_path):
    return tmp_path / "data" / "bus.db"


async def test_published_event_reaches_a_matching_subscriber_once(bus_path):
    async with local_bus(bus_path) as bus:
        notes, other = Recorder(), Recorder()
        await bus.subscribe("notes", ["note.*"], notes)
        await bus.subscribe("other", ["payment.*"], other)
        event = make_event("note.created")
        await bus.publish(event)
        await wait_for(lambda: notes.handled[event.id] == 1)
        await asyncio.sleep(0.05)
        assert notes.attempts(event) == [1]
        assert notes.deliveries[0].event == event
        assert other.deliveries == []


async def test_same_event_id_published_twice_is_delivered_once(bus_path):
    async with local_bus(bus_path) as bus:
        recorder = Recorder()
        await bus.subscribe("notes", ["*"], recorder)
        event = make_event()
        await bus.publish(event)
        await bus.publish(event)
        await wait_for(lambda: recorder.handled[event.id] == 1)
        await bus.publish(event)
        await asyncio.sleep(0.05)
        assert recorder.attempts(event) == [1]


async def test_failing_handler_is_retried_with_growing_attempts_then_succeeds(bus_path):
    async with local_bus(bus_path, max_attempts=5) as bus:
        recorder = Recorder(fail_times=2)
        await bus.subscribe("notes", ["*"], recorder)
        event = make_event()
        await bus.publish(event)
        await wait_for(lambda: recorder.handled[event.id] == 1)
        assert recorder.attempts(event) == [1, 2, 3]
        assert all(d.max_attempts == 5 for d in recorder.deliveries)


async def test_retries_wait_for_the_backoff(bus_path):
    async with local_bus(bus_path, retry_base_seconds=0.1) as bus:
        times: list[float] = []

        async def failing_twice(delivery):
            times.append(time.monotonic())
            if delivery.attempt < 3:
                raise RuntimeError("not yet")

        await bus.subscribe("notes", ["*"], failing_twice)
        await bus.publish(make_event())
        await wait_for(lambda: len(times) == 3)
        assert times[1] - times[0] >= 0.09
        assert times[2] - times[1] >= 0.19


async def test_handler_failing_every_time_stops_after_max_attempts_and_margin(bus_path):
    async with local_bus(bus_path, max_attempts=3) as bus:
        recorder = Recorder(fail_times=100)
        await bus.subscribe("notes", ["*"], recorder)
        event = make_event()
        await bus.publish(event)
        expected = list(range(1, 3 + REDELIVERY_MARGIN + 1))
        await wait_for(lambda: recorder.attempts(event) == expected)
        await asyncio.sleep(0.2)
        assert recorder.attempts(event) == expected
        assert recorder.deliveries[2].is_last_attempt


async def test_an_outage_longer_than_the_attempts_never_exhausts_the_event(bus_path):
    from kilat.platform.errors import ServiceUnavailable

    outage_attempts = 3 + REDELIVERY_MARGIN + 3
    seen: list[int] = []

    async def database_down_for_a_while(delivery):
        seen.append(delivery.attempt)
        if delivery.attempt <= outage_attempts:
            raise ServiceUnavailable("database unavailable")

    async with local_bus(bus_path, max_attempts=3) as bus:
        await bus.subscribe("notes", ["*"], database_down_for_a_while)
        await bus.publish(make_event())
        await wait_for(lambda: len(seen) == outage_attempts + 1, timeout=20)
    assert seen == list(range(1, outage_attempts + 2))


async def test_event_interrupted_by_a_restart_is_delivered_after_it(bus_path):
    started = asyncio.Event()

    async def never_finishes(delivery):
        started.set()
        await asyncio.Event().wait()

    event = make_event()
    async with local_bus(bus_path) as bus:
        await bus.subscribe("notes", ["note.*"], never_finishes)
        await bus.publish(event)
        await asyncio.wait_for(started.wait(), 2)

    async with local_bus(bus_path) as reopened:
        recorder = Recorder()
        await reopened.subscribe("notes", ["note.*"], recorder)
        await wait_for(lambda: recorder.handled[event.id] == 1)
        assert recorder.attempts(event) == [1]


async def test_retry_count_and_pending_events_survive_a_restart(bus_path):
    event = make_event()
    async with local_bus(bus_path, retry_base_seconds=0.05) as bus:
        first = Recorder(fail_times=100)
        await bus.subscribe("notes", ["*"], first)
        await bus.publish(event)
        # the third delivery starts only after the second failure was stored
        await wait_for(lambda: len(first.deliveries) == 3)

    async with local_bus(bus_path, retry_base_seconds=0.05) as reopened:
        second = Recorder()
        await reopened.subscribe("notes", ["*"], second)
        await wait_for(lambda: second.handled[event.id] == 1)
        assert second.attempts(event)[0] >= 3


async def test_known_consumer_gets_events_published_while_it_was_away(bus_path):
    async with local_bus(bus_path) as bus:
        await bus.subscribe("notes", ["note.*"], Recorder())

    missed = make_event("note.created")
    async with local_bus(bus_path) as reopened:
        await reopened.publish(missed)
        recorder = Recorder()
        await reopened.subscribe("notes", ["note.*"], recorder)
        await wait_for(lambda: recorder.handled[missed.id] == 1)


async def test_new_consumer_gets_only_events_published_after_it_subscribed(bus_path):
    async with local_bus(bus_path) as bus:
        before = make_event()
        await bus.publish(before)
        recorder = Recorder()
        await bus.subscribe("latecomer", ["*"], recorder)
        after = make_event()
        await bus.publish(after)
        await wait_for(lambda: recorder.handled[after.id] == 1)
        assert before.id not in recorder.handled


async def test_events_to_two_consumers_are_delivered_to_each_once(bus_path):
    async with local_bus(bus_path) as bus:
        payment, notification = Recorder(), Recorder()
        await bus.subscribe("payment", ["booking.*"], payment)
        await bus.subscribe("notification", ["booking.accepted", "payment.*"], notification)
        events = [make_event("booking.accepted") for _ in range(10)]
        for event in events:
            await bus.publish(event)
        for recorder in (payment, notification):
            await wait_for(lambda r=recorder: len(r.handled) == 10)
        await asyncio.sleep(0.05)
        assert set(payment.handled.values()) == {1}
        assert set(notification.handled.values()) == {1}
        assert len(payment.deliveries) == len(notification.deliveries) == 10


async def test_two_handlers_of_one_consumer_share_the_events(bus_path):
    async with local_bus(bus_path) as bus:
        first, second = Recorder(), Recorder()
        await bus.subscribe("notes", ["*"], first)
        await bus.subscribe("notes", ["*"], second)
        events = [make_event() for _ in range(10)]
        for event in events:
            await bus.publish(event)
        await wait_for(lambda: len(first.handled) + len(second.handled) == 10)
        await asyncio.sleep(0.05)
        total = first.handled + second.handled
        assert set(total) == {e.id for e in events} and set(total.values()) == {1}
        assert first.handled and second.handled


async def test_events_are_delivered_in_publish_order(bus_path):
    async with local_bus(bus_path) as bus:
        recorder = Recorder()
        events = [make_event(f"note.n{i}") for i in range(30)]
        await bus.subscribe("notes", ["note.*"], recorder)
        await asyncio.gather(*(bus.publish(e) for e in events))
        await wait_for(lambda: len(recorder.handled) == 30)
        assert [d.event.id for d in recorder.deliveries] == [e.id for e in events]


async def test_events_of_different_subjects_are_handled_concurrently_each_subject_in_order(
        bus_path):
    async with local_bus(bus_path) as bus:
        await bus.subscribe("notes", ["note.*"], Recorder())
    async with local_bus(bus_path) as reopened:  # the backlog arrives as one batch
        for event in LANE_EVENTS:
            await reopened.publish(event)
        probe = LaneProbe()
        await reopened.subscribe("notes", ["note.*"], probe)
        await check_lanes(probe)


async def test_delivery_is_prompt(bus_path):
    async with local_bus(bus_path, idle_poll_seconds=5.0) as bus:
        latencies: list[float] = []
        published: dict = {}

        async def timer(delivery):
            latencies.append(time.perf_counter() - published[delivery.event.id])

        await bus.subscribe("notes", ["*"], timer)
        for _ in range(30):
            event = make_event()
            published[event.id] = time.perf_counter()
            await bus.publish(event)
            await wait_for(lambda n=len(latencies): n < len(latencies) or len(latencies) == 30,
                           interval=0.001)
        await wait_for(lambda: len(latencies) == 30)
        latencies.sort()
        # woken by publish: far below the 5 s idle poll even on a loaded machine
        assert latencies[15] < 0.05 and latencies[-1] < 1.0


async def test_prune_removes_done_rows_past_retention_and_keeps_pending_ones(bus_path):
    async with local_bus(bus_path, retention_seconds=60) as bus:
        done, pending = Recorder(), Recorder(fail_times=100)
        await bus.subscribe("done", ["a.*"], done)
        await bus.subscribe("pending", ["b.*"], pending)
        handled, stuck = make_event("a.x"), make_event("b.x")
        await bus.publish(handled)
        await bus.publish(stuck)
        await wait_for(lambda: done.handled[handled.id] == 1)
        assert await bus.prune() == 0
        assert await bus.prune(now=time.time() + 120) == 1
        # the pruned id is outside the de-duplication window now: it is a new event again
        await bus.publish(handled)
        await wait_for(lambda: done.handled[handled.id] == 2)


async def test_fast_path_reaches_every_subscriber(bus_path):
    async with local_bus(bus_path) as bus:
        got: list = []

        async def first(payload):
            got.append(("first", payload["lat"]))

        async def second(payload):
            got.append(("second", payload["lat"]))

        await bus.subscribe_fast("runner.location", first)
        await bus.subscribe_fast("runner.location", second)
        await bus.publish_fast("runner.location", {"lat": 1.5})
        await bus.publish_fast("other.subject", {"lat": 9})
        assert Counter(got) == Counter({("first", 1.5): 1, ("second", 1.5): 1})


async def test_ping_succeeds_while_open_and_fails_once_closed(bus_path):
    bus = LocalBus(bus_path)
    await bus.start()
    await bus.ping()
    await bus.close()
    with pytest.raises(RuntimeError):
        await bus.ping()
    with pytest.raises(RuntimeError):
        await bus.publish(make_event())
