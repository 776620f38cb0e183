"""Who is offered a request next: within the radius, nearest first, never twice, in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kilat.services.rides.domain import Candidate, next_offers, offer_expired

NEAR = [Candidate("d-700", 0.7), Candidate("d-200", 0.2), Candidate("d-950", 0.95),
        Candidate("d-400", 0.4), Candidate("d-3000", 3.0), Candidate("d-1001", 1.001)]


def ids(candidates) -> list[str]:
    return [c.driver_id for c in candidates]


def test_the_nearest_drivers_within_the_radius_come_first_in_a_batch():
    chosen = next_offers(NEAR, already_offered=set(), pending=0, batch=3, radius_km=1.0)
    assert ids(chosen) == ["d-200", "d-400", "d-700"]


def test_drivers_beyond_the_radius_are_never_offered():
    chosen = next_offers(NEAR, already_offered=set(), pending=0, batch=10, radius_km=1.0)
    assert ids(chosen) == ["d-200", "d-400", "d-700", "d-950"]


def test_an_expired_or_rejected_offer_is_replaced_by_the_next_driver_not_offered_before():
    chosen = next_offers(NEAR, already_offered={"d-200", "d-400", "d-700"}, pending=2, batch=3,
                         radius_km=1.0)
    assert ids(chosen) == ["d-950"]


def test_no_new_offer_while_the_batch_is_full():
    assert next_offers(NEAR, already_offered=set(), pending=3, batch=3, radius_km=1.0) == []


def test_equal_distances_are_ordered_by_driver():
    tied = [Candidate("b", 0.5), Candidate("a", 0.5)]
    assert ids(next_offers(tied, already_offered=set(), pending=0, batch=2, radius_km=1)) == ["a", "b"]


def test_a_larger_radius_setting_reaches_further():
    chosen = next_offers(NEAR, already_offered=set(), pending=0, batch=10, radius_km=5.0)
    assert ids(chosen)[-2:] == ["d-1001", "d-3000"]


def test_an_offer_lapses_at_its_deadline():
    now = datetime(2026, 12, 8, tzinfo=UTC)
    assert offer_expired(now, now)
    assert offer_expired(now - timedelta(seconds=1), now)
    assert not offer_expired(now + timedelta(seconds=1), now)
