"""Who hears each step of a ride, in English and Malay, with IDR amounts, once per fact."""

from __future__ import annotations

import uuid

import pytest

from kilat.contracts import by_type
from kilat.services.notification.rules import notices_for
from kilat.services.notification.templates import render
from kilat.services.notification.verticals import rides

PASSENGER, DRIVER = uuid.uuid4(), uuid.uuid4()
BASE = {"request_id": str(uuid.uuid4()), "passenger_id": str(PASSENGER),
        "driver_id": str(DRIVER), "ride_id": str(uuid.uuid4()), "match_id": str(uuid.uuid4()),
        "offer_id": str(uuid.uuid4()), "status": "pickup", "distance_km": 0.4,
        "expires_at": "2026-12-08T01:00:30+00:00", "started_at": "2026-12-08T01:00:00+00:00",
        "occurred_at": "2026-12-08T01:00:00+00:00", "pickup_latitude": -6.2,
        "pickup_longitude": 106.8, "destination_latitude": -6.17, "destination_longitude": 106.82,
        "distance_m": 5200, "fare": 15000, "adjustment_factor": "0.8", "adjusted_fare": 12000,
        "admin_fee": 600, "driver_payout": 11400, "currency": "IDR", "vehicle_plate": "B 1 XY",
        "cancelled_by": "passenger", "reason": "card declined"}


def notices(event_type: str, **changes):
    return notices_for(by_type(event_type).model_validate(BASE | changes))


@pytest.mark.parametrize("event_type", sorted(rides.RULES))
def test_every_step_reaches_its_parties_once_per_fact_in_both_languages(event_type):
    first, again = notices(event_type), notices(event_type)
    assert first and [n.fact_key for n in first] == [n.fact_key for n in again]
    assert {n.user_id for n in first} <= {PASSENGER, DRIVER}
    for notice in first:
        for locale in ("en", "ms"):
            for channel in ("in_app", "push", "sms", "email"):
                text = render(notice.template, locale, channel, notice.context)
                assert text.title and text.body and "{" not in text.body


def test_the_offer_goes_to_the_driver_only_and_the_match_to_both():
    [offer] = notices("rides.offered")
    assert offer.user_id == DRIVER
    assert "0.4 km" in render(offer.template, "en", "push", offer.context).body
    assert {n.user_id for n in notices("rides.driver_found")} == {PASSENGER, DRIVER}


def test_the_fare_is_shown_in_idr():
    by_user = {n.user_id: n for n in notices("rides.arrived")}
    assert "IDR 12,000" in render(by_user[PASSENGER].template, "en", "push",
                                  by_user[PASSENGER].context).body
    driver_text = render(by_user[DRIVER].template, "ms", "push", by_user[DRIVER].context).body
    assert "IDR 11,400" in driver_text and "IDR 15,000" in driver_text


def test_a_cancellation_reaches_the_other_side_and_a_lapse_both():
    [other] = notices("rides.cancelled", cancelled_by="passenger", status="cancelled")
    assert other.user_id == DRIVER and other.template == "rides.cancelled.ended.driver"
    lapsed = notices("rides.cancelled", cancelled_by="system", status="searching")
    assert {n.template for n in lapsed} == {"rides.cancelled.searching.passenger",
                                            "rides.cancelled.searching.driver"}


def test_every_template_is_used_by_a_rule():
    used = set()
    for event_type in rides.RULES:
        for by, status in (("passenger", "cancelled"), ("driver", "searching"),
                           ("system", "cancelled"), ("system", "searching")):
            used |= {n.template for n in notices(event_type, cancelled_by=by, status=status)}
    assert used == set(rides.TEMPLATES)
