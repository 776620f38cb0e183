"""Pure booking rules: pricing vectors, crates, state machine, booking numbers, filters, images."""

import random
import re
from collections import Counter

import pytest

from kilat.platform.errors import Conflict, Unprocessable
from kilat.platform.geo import decode_polyline
from kilat.services.booking import domain
from kilat.services.booking.domain import BookingStatus as S
from kilat.services.booking.domain import CrateSize, Point, PricingRules
from kilat.services.booking.settings import BookingSettings

RULES = PricingRules()


def test_spec_vector_dog_18_5_kg_over_9_69_km_costs_4423():
    quote = domain.quote(Point(3.1590, 101.7123), Point(3.1073, 101.6420), "dog", 18.5, RULES)
    assert round(quote.route.distance_km, 4) == 9.6939
    assert quote.crate.minimum_size is CrateSize.LARGE
    assert quote.price_cents == 500 + 2423 + 500 + 1000 == 4423
    assert quote.currency == "MYR"


def test_spec_vector_small_dog_over_2_84_km_costs_1710():
    quote = domain.quote(Point(3.139, 101.6869), Point(3.15, 101.71), "dog", 5, RULES)
    assert round(quote.route.distance_km, 3) == 2.841
    assert quote.crate.minimum_size is CrateSize.SMALL
    assert quote.price_cents == 500 + 710 + 500 + 0 == 1710


def test_distance_part_is_truncated_not_rounded():
    assert domain.price_cents(1.9999, "cat", CrateSize.SMALL, RULES) == 500 + 499 + 300


@pytest.mark.parametrize(("pet_type", "surcharge"), [
    ("dog", 500), ("cat", 300), ("bird", 200), ("rabbit", 300), ("reptile", 800), ("other", 500),
    ("hamster", 500), ("fish", 500),
])
def test_pet_surcharge_per_type_with_hamster_and_fish_priced_as_other(pet_type, surcharge):
    assert domain.price_cents(0, pet_type, CrateSize.SMALL, RULES) == 500 + surcharge


def test_configured_base_fare_rate_and_surcharges_change_the_price():
    rules = BookingSettings(base_fare_cents=1000, per_km_cents=100,
                            pet_surcharge_cents={"dog": 0}).pricing_rules()
    quote = domain.quote(Point(3.1590, 101.7123), Point(3.1073, 101.6420), "dog", 18.5, rules)
    assert quote.price_cents == 1000 + 969 + 0 + 1000
    assert rules.pet_surcharge_cents["cat"] == 300


@pytest.mark.parametrize(("weight", "size"), [
    (0.5, "small"), (5, "small"), (5.01, "medium"), (15, "medium"), (15.5, "large"), (30, "large"),
    (30.1, "xlarge"),
])
def test_crate_size_follows_weight_bands(weight, size):
    assert domain.crate_size(weight) == size


def test_crate_requirement_ventilation_always_temperature_for_reptiles_capacity_with_margin():
    dog = domain.crate_requirement("dog", 18.5)
    reptile = domain.crate_requirement("reptile", 2)
    assert (dog.needs_ventilation, dog.needs_temp_control, dog.minimum_weight_capacity) == (
        True, False, 22.2)
    assert (reptile.needs_temp_control, reptile.minimum_weight_capacity) == (True, 2.4)


def test_route_has_duration_from_average_speed_and_a_straight_line_polyline():
    route = domain.straight_route(Point(3.1590, 101.7123), Point(3.1073, 101.6420), 30.0)
    assert route.estimated_duration_min == 20  # 9.69 km at 30 km/h, rounded up
    assert decode_polyline(route.polyline) == [(3.159, 101.7123), (3.1073, 101.642)]
    assert domain.straight_route(Point(1, 1), Point(1, 1), 30.0).estimated_duration_min == 0


def test_unknown_pet_type_is_refused_and_known_ones_are_normalised():
    assert domain.normalize_pet_type(" Dog ") == "dog"
    with pytest.raises(ValueError, match="invalid pet type: horse"):
        domain.normalize_pet_type("horse")


ALLOWED = {
    (S.REQUESTED, S.ACCEPTED), (S.REQUESTED, S.CANCELLED),
    (S.ACCEPTED, S.REQUESTED), (S.ACCEPTED, S.IN_PROGRESS), (S.ACCEPTED, S.CANCELLED),
    (S.IN_PROGRESS, S.DELIVERED), (S.DELIVERED, S.COMPLETED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_state_machine_table(current, target):
    if (current, target) in ALLOWED:
        domain.check_transition(current, target)
    else:
        with pytest.raises(Unprocessable) as caught:
            domain.check_transition(current, target)
        assert caught.value.status_code == 422
        assert caught.value.error == f"cannot transition from '{current}' to '{target}'"


def test_cancel_after_pickup_is_not_a_transition():
    for status in (S.IN_PROGRESS, S.DELIVERED, S.COMPLETED, S.CANCELLED):
        assert S.CANCELLED not in domain.TRANSITIONS[status]


@pytest.mark.parametrize("status", [s for s in S if s is not S.ACCEPTED])
def test_decline_outside_accepted_is_a_409_conflict(status):
    with pytest.raises(Conflict, match=f"cannot decline booking in state '{status}'"):
        domain.check_declinable(status)


def test_booking_number_is_bk_and_six_characters_of_the_32_letter_alphabet():
    alphabet = domain.BOOKING_NUMBER_ALPHABET
    assert len(alphabet) == len(set(alphabet)) == 32
    assert not set("IO01") & set(alphabet)
    numbers = [domain.new_booking_number() for _ in range(2000)]
    assert all(re.fullmatch(r"BK-[A-HJ-NP-Z2-9]{6}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_booking_number_draws_every_character_of_the_alphabet():
    rng = random.Random(7)
    counts = Counter("".join(domain.new_booking_number(rng.choice)[3:] for _ in range(3000)))
    assert set(counts) == set(domain.BOOKING_NUMBER_ALPHABET)
    assert min(counts.values()) > 400  # 18000 draws / 32 = 562 on average


@pytest.mark.parametrize(("raw", "expected"), [
    (None, None), ("", None),
    ("requested", {S.REQUESTED}),
    ("active", {S.ACCEPTED, S.IN_PROGRESS, S.DELIVERED}),
    ("completed", {S.COMPLETED}),
    ("requested, cancelled", {S.REQUESTED, S.CANCELLED}),
    ("ACTIVE,requested", {S.ACCEPTED, S.IN_PROGRESS, S.DELIVERED, S.REQUESTED}),
])
def test_status_filter_words(raw, expected):
    assert domain.parse_status_filter(raw) == (None if expected is None else frozenset(expected))


def test_unknown_status_filter_is_refused():
    with pytest.raises(ValueError, match="invalid status filter: picked_up"):
        domain.parse_status_filter("requested,picked_up")


def test_party_of_a_booking():
    owner, runner, stranger = object(), object(), object()
    assert domain.party_of(owner, "owner", owner, runner) is domain.Party.OWNER
    assert domain.party_of(runner, "runner", owner, runner) is domain.Party.RUNNER
    assert domain.party_of(stranger, "admin", owner, runner) is domain.Party.ADMIN
    assert domain.party_of(stranger, "runner", owner, runner) is None
    assert domain.party_of(stranger, "runner", owner, None) is None


@pytest.mark.parametrize(("data", "expected"), [
    (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\nrest", "image/png"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"GIF89a", None), (b"%PDF-1.7", None), (b"RIFF\x00\x00\x00\x00WAVE", None), (b"", None),
])
def test_image_type_is_read_from_magic_bytes(data, expected):
    assert domain.image_type(data) == expected
