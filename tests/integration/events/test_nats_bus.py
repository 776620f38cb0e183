"""NatsBus against a real NATS JetStream server: durability, queue semantics, telemetry."""

import asyncio
from collections import Counter

import pytest

from tests.integration.events.support import make_bus, private_nats, started
from tests.service.events.support import (
    LANE_EVENTS,
    LaneProbe,
    Recorder,
    check_lanes,
    make_event,
    wait_for,
)


async def test_publish_stores_the_event_once_per_id(namespace, jetstream):
    async with started(make_bus(namespace)) as bus:
        event = make_event("booking.accepted")
        await bus.publish(event)
        await bus.publish(event)
        assert (await jetstream.stream_info(namespace.stream)).state.messages == 1
        await bus.publish(make_event("booking.accepted"))
        assert (await jetstream.stream_info(namespace.stream)).state.messages == 2


async def test_stream_is_file_backed_with_dedup_window_and_retention(namespace, jetstream):
    async with started(make_bus(namespace)):
        config = (await jetstream.stream_info(namespace.stream)).config
        assert config.subjects == [f"{namespace.prefix}.events.>"]
        assert config.storage == "file"
        assert config.duplicate_window >= 120
        assert config.max_age == 7 * 24 * 3600


async def test_two_instances_of_one_service_share_the_events(namespace):
    handled: Counter = Counter()
    per_instance: Counter = Counter()

    def worker(name):
        async def handle(delivery):
            await asyncio.sleep(0.01)
            handled[delivery.event.id] += 1
            per_instance[name] += 1
        return handle

    async with started(make_bus(namespace, fetch_batch=1)) as first, \
            started(make_bus(namespace, fetch_batch=1)) as second:
        await first.subscribe("booking", ["work.*"], worker("first"))
        await second.subscribe("booking", ["work.*"], worker("second"))
        events = [make_event("work.item") for _ in range(30)]
        for event in events:
            await first.publish(event)
        await wait_for(lambda: len(handled) == 30)
        await asyncio.sleep(0.3)
        assert set(handled) == {e.id for e in events}
        assert set(handled.values()) == {1}
        assert per_instance["first"] > 0 and per_instance["second"] > 0


async def test_each_service_gets_its_own_copy(namespace):
    async with started(make_bus(namespace)) as bus:
        payment, review = Recorder(), Recorder()
        await bus.subscribe("payment", ["booking.*"], payment)
        await bus.subscribe("review", ["booking.completed"], review)
        completed, accepted = make_event("booking.completed"), make_event("booking.accepted")
        await bus.publish(completed)
        await bus.publish(accepted)
        await wait_for(lambda: len(payment.handled) == 2 and len(review.handled) == 1)
        await asyncio.sleep(0.2)
        assert set(payment.handled.values()) == {1}
        assert list(review.handled) == [completed.id]


async def test_service_with_several_patterns_gets_each_matching_event_once(namespace):
    async with started(make_bus(namespace)) as bus:
        recorder = Recorder()
        await bus.subscribe("notification", ["booking.accepted", "payment.*", "booking.*"],
                            recorder)
        events = [make_event(t) for t in ("booking.accepted", "payment.held", "runner.moved")]
        for event in events:
            await bus.publish(event)
        await wait_for(lambda: len(recorder.handled) == 2)
        await asyncio.sleep(0.2)
        assert recorder.handled == Counter({events[0].id: 1, events[1].id: 1})


async def test_failed_delivery_is_redelivered_with_attempt_count(namespace):
    async with started(make_bus(namespace, max_attempts=4)) as bus:
        recorder = Recorder(fail_times=2)
        await bus.subscribe("notes", ["note.*"], recorder)
        event = make_event("note.created")
        await bus.publish(event)
        await wait_for(lambda: recorder.handled[event.id] == 1)
        assert recorder.attempts(event) == [1, 2, 3]
        assert recorder.deliveries[-1].max_attempts == 4


async def test_an_outage_outlasts_the_attempts_but_a_bad_event_is_given_up(namespace):
    from kilat.platform.errors import ServiceUnavailable
    from kilat.platform.events.nats import REDELIVERY_MARGIN

    outage_attempts = 3 + REDELIVERY_MARGIN + 2
    seen: dict[str, list[int]] = {"outage": [], "bad": []}

    async def handler(delivery):
        kind = delivery.event.data["kind"]
        seen[kind].append(delivery.attempt)
        if kind == "bad":
            raise ValueError("this event can never be applied")
        if delivery.attempt <= outage_attempts:
            raise ServiceUnavailable("database unavailable")

    async with started(make_bus(namespace, max_attempts=3, retry_base_seconds=0.02)) as bus:
        await bus.subscribe("notes", ["note.*"], handler)
        await bus.publish(make_event("note.created", kind="outage"))
        await bus.publish(make_event("note.created", kind="bad"))
        await wait_for(lambda: len(seen["outage"]) == outage_attempts + 1, timeout=30)
        await asyncio.sleep(1.0)
    assert seen["outage"] == list(range(1, outage_attempts + 2))
    assert seen["bad"] == list(range(1, 3 + REDELIVERY_MARGIN + 1))  # then terminated


async def test_consumer_restarted_later_gets_what_was_published_meanwhile(namespace):
    async with started(make_bus(namespace)) as bus:
        await bus.subscribe("notes", ["note.*"], Recorder())
    missed = make_event("note.created")
    async with started(make_bus(namespace)) as publisher:
        await publisher.publish(missed)
    async with started(make_bus(namespace)) as again:
        recorder = Recorder()
        await again.subscribe("notes", ["note.*"], recorder)
        await wait_for(lambda: recorder.handled[missed.id] == 1)


async def test_events_of_different_subjects_are_handled_concurrently_each_subject_in_order(
        namespace):
    async with started(make_bus(namespace)) as bus:
        await bus.subscribe("notes", ["note.*"], Recorder())
    async with started(make_bus(namespace)) as publisher:
        for event in LANE_EVENTS:
            await publisher.publish(event)
    async with started(make_bus(namespace)) as again:  # the backlog arrives as one batch
        probe = LaneProbe()
        await again.subscribe("notes", ["note.*"], probe)
        await check_lanes(probe)


async def test_fast_path_reaches_every_subscriber(namespace):
    async with started(make_bus(namespace)) as first, started(make_bus(namespace)) as second:
        got: list = []

        def collector(name):
            async def collect(payload):
                got.append((name, payload["seq"]))
            return collect

        await first.subscribe_fast("runner.location.r1", collector("first"))
        await second.subscribe_fast("runner.location.r1", collector("second"))
        for seq in range(3):
            await first.publish_fast("runner.location.r1", {"seq": seq})
        await wait_for(lambda: len(got) == 6)
        assert sorted(got) == sorted((n, s) for n in ("first", "second") for s in range(3))


async def test_ping_fails_once_closed_and_invalid_types_are_refused(namespace):
    bus = make_bus(namespace)
    await bus.start()
    await bus.ping()
    with pytest.raises(ValueError):
        await bus.publish(make_event("booking.*"))
    await bus.close()
    with pytest.raises((ConnectionError, RuntimeError)):
        await bus.ping()


async def test_delivery_resumes_after_the_broker_restarts_without_its_storage(namespace, tmp_path):
    with private_nats(tmp_path / "first") as server:
        async with started(make_bus(namespace, url=server.url)) as bus:
            recorder = Recorder()
            await bus.subscribe("notes", ["note.*"], recorder)
            before = make_event("note.created")
            await bus.publish(before)
            await wait_for(lambda: recorder.handled[before.id] == 1)

            server.kill()
            await wait_for(lambda: not bus.is_connected)
            server.storage = tmp_path / "second"
            server.start()
            after = make_event("note.created")
            await wait_for(lambda: bus.is_connected)
            await bus.publish(after)
            await wait_for(lambda: recorder.handled[after.id] == 1, timeout=10)
            assert recorder.handled == Counter({before.id: 1, after.id: 1})
