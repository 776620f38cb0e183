"""deliver_in_lanes: one lane per subject, in order within a lane, lanes side by side."""

import asyncio

import pytest

from kilat.platform.events.bus import deliver_in_lanes, subject_of
from kilat.platform.events.envelope import new_event


async def test_items_of_one_lane_keep_their_order_while_lanes_overlap():
    running, peak, done = set(), 0, []

    async def deliver(item):
        nonlocal peak
        running.add(item)
        peak = max(peak, len(running))
        await asyncio.sleep(0.01 if item[0] == "a" else 0)
        running.discard(item)
        done.append(item)

    items = [("a", 1), ("b", 1), ("a", 2), ("c", 1), ("b", 2), ("a", 3)]
    await deliver_in_lanes(items, lambda item: item[0], deliver)
    assert sorted(done) == sorted(items)
    for lane in "abc":
        assert [n for key, n in done if key == lane] == sorted(n for key, n in items if key == lane)
    assert peak == 3  # one item of each lane at a time, the three lanes at once
    assert done.index(("b", 2)) < done.index(("a", 1))  # b did not wait behind the slow a


async def test_the_lane_limit_bounds_the_lanes_at_once():
    running, peak = 0, 0

    async def deliver(_item):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.005)
        running -= 1

    await deliver_in_lanes(list(range(10)), lambda item: item, deliver, lanes=4)
    assert peak == 4


async def test_a_single_lane_is_delivered_in_order_inline():
    done = []

    async def deliver(item):
        done.append(item)

    await deliver_in_lanes([3, 1, 2], lambda _item: None, deliver)
    assert done == [3, 1, 2]


async def test_a_failing_delivery_cancels_the_other_lanes_and_propagates():
    cancelled = []

    async def deliver(item):
        if item == "bad":
            raise ValueError("broken")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(item)
            raise

    with pytest.raises(ExceptionGroup) as failure:
        await deliver_in_lanes(["slow", "bad"], lambda item: item, deliver)
    assert failure.group_contains(ValueError) and cancelled == ["slow"]


def test_subject_of_reads_the_envelope_and_tolerates_garbage():
    event = new_event("booking.accepted", {}, source="booking", subject="b-1")
    assert subject_of(event.to_json()) == "b-1"
    assert subject_of(new_event("booking.accepted", {}, source="booking").to_json()) is None
    assert subject_of(b"not json") is None and subject_of(b"[1, 2]") is None
    assert subject_of(b'{"subject": 5}') is None
