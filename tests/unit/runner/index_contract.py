"""The LocationIndex contract, run against each adapter (memory here, Redis in integration)."""

from __future__ import annotations

import random

from kilat.platform.geo import haversine_km
from kilat.platform.geoindex import Availability, LivePosition

NOW = 1_000_000.0
STALE = 120.0


def at(member: str, lat: float, lng: float, seen: float = NOW,
       availability: Availability = Availability.AVAILABLE, **attributes: str) -> LivePosition:
    return LivePosition(member, lat, lng, seen, availability, attributes)


def brute_force(points: dict[str, tuple[float, float]], lat: float, lng: float, radius: float,
                count: int) -> list[tuple[str, float]]:
    measured = [(haversine_km(lat, lng, *p), m) for m, p in points.items()]
    inside = sorted((d, m) for d, m in measured if d <= radius)
    return [(m, d) for d, m in inside[:count]]


def wrap(lng: float) -> float:
    return (lng + 180) % 360 - 180


def random_points(seed: int, n: int, lat: float, lng: float, spread: float) -> dict:
    rng = random.Random(seed)
    points = {f"r{i:05d}": (lat + rng.uniform(-spread, spread),
                            wrap(lng + rng.uniform(-spread, spread))) for i in range(n)}
    points["twin-a"] = points["twin-b"] = (lat + 0.001, lng + 0.001)  # an exact tie
    return points


async def nearby_matches_brute_force(index, seed: int, center: tuple[float, float]) -> None:
    points = random_points(seed, 400, *center, spread=0.3)
    for member, (lat, lng) in points.items():
        await index.add(at(member, lat, lng))
    rng = random.Random(seed + 1)
    for _ in range(15):
        lat, lng = center[0] + rng.uniform(-0.2, 0.2), wrap(center[1] + rng.uniform(-0.2, 0.2))
        radius, count = rng.choice([0.5, 2, 5, 10, 40]), rng.choice([1, 5, 20, 80, 500])
        hits = await index.nearby(lat, lng, radius, count, NOW)
        expected = brute_force(points, lat, lng, radius, count)
        assert [h.member for h in hits] == [m for m, _ in expected]
        assert all(abs(h.distance_km - d) < 1e-9 for h, (_, d) in zip(hits, expected, strict=True))


async def stale_members_are_not_found(index) -> None:
    await index.add(at("fresh", 3.15, 101.70, seen=NOW - STALE + 1))
    await index.add(at("stale", 3.15, 101.70, seen=NOW - STALE - 1))
    assert [h.member for h in await index.nearby(3.15, 101.70, 1, 10, NOW)] == ["fresh"]
    assert await index.get("stale", NOW) is None
    await index.purge_stale(NOW)
    replaced = await index.restore(at("stale", 4.0, 102.0, seen=NOW))
    assert (replaced.latitude, replaced.longitude) == (4.0, 102.0)  # the stale record was purged
    assert await index.get("fresh", NOW) is not None


async def busy_members_are_kept_but_not_found(index) -> None:
    await index.add(at("free", 3.15, 101.70))
    await index.add(at("busy", 3.15, 101.70, availability=Availability.BUSY, booking_id="b1"))
    assert [h.member for h in await index.nearby(3.15, 101.70, 1, 10, NOW)] == ["free"]
    moved = await index.move("busy", 3.16, 101.71, NOW + 1)
    assert moved.availability is Availability.BUSY and moved.attributes == {"booking_id": "b1"}
    assert (moved.latitude, moved.longitude, moved.seen_at) == (3.16, 101.71, NOW + 1)
    assert await index.set_availability("busy", Availability.AVAILABLE, {"profile_id": "p"})
    hits = await index.nearby(3.16, 101.71, 2, 10, NOW + 1)
    assert [h.member for h in hits] == ["busy", "free"]
    assert (await index.get("busy", NOW + 1)).attributes == {"profile_id": "p"}


async def removed_members_stay_out_until_added_again(index) -> None:
    await index.add(at("r1", 3.15, 101.70))
    await index.remove("r1", NOW)
    assert await index.nearby(3.15, 101.70, 1, 10, NOW) == []
    assert await index.move("r1", 3.15, 101.70, NOW + 1) is None
    assert await index.touch("r1", NOW + 1) is None
    assert await index.set_availability("r1", Availability.BUSY, {}) is False
    assert await index.restore(at("r1", 3.15, 101.70, seen=NOW + 5)) is None
    restored = await index.restore(at("r1", 3.15, 101.70, seen=NOW + STALE + 1))
    assert restored is not None and restored.seen_at == NOW + STALE + 1
    await index.remove("r1", NOW + 200)
    await index.add(at("r1", 3.15, 101.70, seen=NOW + 201))
    assert [h.member for h in await index.nearby(3.15, 101.70, 1, 10, NOW + 201)] == ["r1"]


async def restore_keeps_a_present_member(index) -> None:
    await index.add(at("r1", 3.15, 101.70, seen=NOW - 10))
    kept = await index.restore(at("r1", 4.0, 102.0, seen=NOW))
    assert (kept.latitude, kept.longitude, kept.seen_at) == (3.15, 101.70, NOW - 10)


async def touch_refreshes_without_moving(index) -> None:
    await index.add(at("r1", 3.15, 101.70, seen=NOW - STALE + 5))
    touched = await index.touch("r1", NOW + 100)
    assert (touched.latitude, touched.longitude, touched.seen_at) == (3.15, 101.70, NOW + 100)
    assert [h.member for h in await index.nearby(3.15, 101.70, 1, 10, NOW + 100)] == ["r1"]


async def add_many_is_add_for_each(index) -> None:
    await index.add(at("was-removed", 3.15, 101.70))
    await index.remove("was-removed", NOW)
    await index.add(at("was-busy", 3.15, 101.70, availability=Availability.BUSY))
    await index.add_many([
        at("a", 3.151, 101.70, profile_id="pa"), at("was-removed", 3.152, 101.70),
        at("was-busy", 3.153, 101.70), at("b", 3.15, 101.70, availability=Availability.BUSY),
    ])
    hits = await index.nearby(3.15, 101.70, 1, 10, NOW)
    assert [h.member for h in hits] == ["a", "was-removed", "was-busy"]
    assert (await index.get("a", NOW)).attributes == {"profile_id": "pa"}
    assert (await index.get("b", NOW)).availability is Availability.BUSY
    assert (await index.move("was-removed", 3.16, 101.70, NOW + 1)) is not None


CONTRACT = [add_many_is_add_for_each, stale_members_are_not_found, busy_members_are_kept_but_not_found,
            removed_members_stay_out_until_added_again, restore_keeps_a_present_member,
            touch_refreshes_without_moving]


async def move_can_require_the_last_write_it_saw(index) -> None:
    await index.add(at("r1", 3.15, 101.70, seen=NOW))
    moved = await index.move("r1", 3.16, 101.70, NOW + 4, if_seen_at=NOW)
    assert (moved.latitude, moved.seen_at) == (3.16, NOW + 4)
    refused = await index.move("r1", 3.17, 101.70, NOW + 8, if_seen_at=NOW)
    assert (refused.latitude, refused.seen_at) == (3.16, NOW + 4)
    assert (await index.get("r1", NOW + 8)).latitude == 3.16
    await index.remove("r1", NOW + 9)
    assert await index.move("r1", 3.18, 101.70, NOW + 10, if_seen_at=NOW + 4) is None


CONTRACT.append(move_can_require_the_last_write_it_saw)
