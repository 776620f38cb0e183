"""Pure parcels rules: the shipment state machine, pricing, refunds, signatures, ad rules."""

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from kilat.platform.geo import haversine_km
from kilat.services.parcels import domain
from kilat.services.parcels.domain import Item, PricingRules, ShipmentStatus as S

ALLOWED = {
    (S.PENDING, S.ASSIGNED), (S.PENDING, S.CANCELLED),
    (S.ASSIGNED, S.PICKED_UP), (S.ASSIGNED, S.FAILED), (S.ASSIGNED, S.CANCELLED),
    (S.PICKED_UP, S.IN_TRANSIT), (S.PICKED_UP, S.FAILED),
    (S.IN_TRANSIT, S.DELIVERED), (S.IN_TRANSIT, S.FAILED),
    (S.FAILED, S.RETURNED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_the_state_machine_allows_exactly_the_listed_moves(current, target):
    if (current, target) in ALLOWED:
        domain.check_transition(current, target)
    else:
        with pytest.raises(domain.TransitionRefused):
            domain.check_transition(current, target)


def test_terminal_states_have_no_way_out():
    for status in domain.TERMINAL:
        assert not domain.TRANSITIONS[status]


RULES = PricingRules()
KL, PJ = (3.1579, 101.7123), (3.1185, 101.6235)


def test_price_follows_the_documented_formula():
    q = domain.quote(KL, PJ, [Item(2.5, 30, 20, 10, 1)], "standard", RULES)
    assert q.distance_km == round(haversine_km(*KL, *PJ) * 1.3, 2) == 14.03
    assert q.chargeable_kg == 2.5  # actual 2.5 > volumetric 1.2
    assert q.price == 500 + 1684 + 40  # base + ceil(120 * 14.03) + 80 * (2.5 - 2)
    assert q.currency == "MYR"


def test_chargeable_weight_is_the_volumetric_one_for_a_light_big_box():
    q = domain.quote(KL, PJ, [Item(1.0, 60, 50, 40, 2)], "standard", RULES)
    assert q.volumetric_kg == 48.0 and q.actual_kg == 2.0 and q.chargeable_kg == 48.0


def test_express_costs_the_multiplier_more():
    standard = domain.quote(KL, PJ, [Item(3, 10, 10, 10, 1)], "standard", RULES)
    express = domain.quote(KL, PJ, [Item(3, 10, 10, 10, 1)], "express", RULES)
    assert express.price == pytest.approx(standard.price * 1.5, abs=1)


def test_chargeable_weight_rounds_up_to_half_a_kilo():
    assert domain.round_half_kg(2.01) == 2.5 and domain.round_half_kg(2.5) == 2.5


def test_too_far_or_too_heavy_is_refused():
    with pytest.raises(domain.QuoteRefused):
        domain.quote(KL, (1.3521, 103.8198), [Item(1, 10, 10, 10, 1)], "standard", RULES)
    with pytest.raises(domain.QuoteRefused):
        domain.quote(KL, PJ, [Item(60, 10, 10, 10, 2)], "standard", RULES)


@pytest.mark.parametrize(("order", "shipment", "refund"), [
    ("awaiting_payment", "pending", 0), ("paid", "pending", 10000), ("paid", "assigned", 8000)])
def test_refund_rules(order, shipment, refund):
    assert domain.cancellation(order, shipment, 10000, 20).refund == refund


@pytest.mark.parametrize(("order", "shipment"), [
    ("paid", "picked_up"), ("paid", "in_transit"), ("completed", "delivered"),
    ("payment_pending", "pending"), ("cancelled", "cancelled")])
def test_late_or_pending_cancellations_are_refused(order, shipment):
    with pytest.raises(domain.CancelRefused):
        domain.cancellation(order, shipment, 10000, 20)


def test_charge_ids_are_deterministic_per_attempt():
    order = uuid.uuid4()
    assert domain.charge_id(order, 1) == domain.charge_id(order, 1) != domain.charge_id(order, 2)


def test_tracking_numbers_have_the_documented_shape():
    number = domain.tracking_number(datetime(2026, 12, 8, tzinfo=UTC))
    assert number.startswith("DM-20261208-") and domain.is_tracking_number(number)
    assert not domain.is_tracking_number("DM-2026128-ABCDEF")
    assert not domain.is_tracking_number("DM-20261208-abcdef")


def test_a_signature_verifies_only_the_signed_body_and_secret():
    header = domain.signature("s3cret", 1765152000, b'{"a":1}')
    assert header.startswith("t=1765152000,v1=")
    assert domain.verify_signature("s3cret", header, b'{"a":1}')
    assert not domain.verify_signature("s3cret", header, b'{"a":2}')
    assert not domain.verify_signature("other", header, b'{"a":1}')


def test_backoff_doubles_up_to_the_cap():
    assert [domain.backoff_seconds(n, 10, 60) for n in (1, 2, 3, 4)] == [10, 20, 40, 60]


FACTS = {"city": "Kuala Lumpur", "segment": "business", "channel": "web", "hour": 9, "weekday": 1}


@pytest.mark.parametrize(("rule", "matches"), [
    ({}, True),
    ({"field": "city", "op": "eq", "value": "kuala lumpur"}, True),
    ({"field": "channel", "op": "in", "value": ["mobile", "wechat"]}, False),
    ({"all": [{"field": "segment", "op": "eq", "value": "business"},
              {"field": "hour", "op": "between", "value": [8, 11]}]}, True),
    ({"any": [{"field": "city", "op": "eq", "value": "Penang"},
              {"not": {"field": "weekday", "op": "in", "value": [6, 7]}}]}, True),
    ({"field": "hour", "op": "between", "value": [22, 6]}, False),
])
def test_ad_rules(rule, matches):
    domain.check_rule(rule)
    assert domain.rule_matches(rule, FACTS) is matches


@pytest.mark.parametrize("rule", [
    {"field": "age", "op": "eq", "value": 3}, {"field": "city", "op": "like", "value": "K%"},
    {"all": []}, {"field": "hour", "op": "between", "value": [1]}, [], {"not": "x"},
    {"field": "city", "op": "eq", "value": True}])
def test_ad_rules_outside_the_language_are_refused(rule):
    with pytest.raises(domain.RuleError):
        domain.check_rule(rule)


def test_median():
    assert domain.median([]) is None and domain.median([3, 1, 2]) == 2
    assert domain.median([1, 2, 3, 4]) == 2.5


def test_the_eta_heads_to_the_pickup_until_picked_up_then_to_the_dropoff():
    assert domain.next_stop("assigned", KL, PJ) == ("pickup", KL)
    assert domain.next_stop("in_transit", KL, PJ) == ("dropoff", PJ)
    assert domain.eta_minutes(KL, PJ, 1.3, 25) == round(14.03 / 25 * 60, 1)
