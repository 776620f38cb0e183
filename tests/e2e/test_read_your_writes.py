"""Reads of your own writes across services, in both profiles: a step that depends on another
service's fact right after the caller made it is not refused because the event is in flight."""

from __future__ import annotations

from websockets.sync.client import connect

from tests.e2e import journey as j
from tests.e2e.platform import Platform, wait_until


def test_the_owner_follows_a_booking_the_moment_it_is_created(platform: Platform):
    owner = j.register(platform.url, "owner")
    booking_id = j.create_booking(owner)["id"]
    with connect(j.websocket_url(platform.url, booking_id, owner.token), open_timeout=10):
        pass  # admitted at the first attempt: no 404 while booking.requested is on its way


def test_a_review_posted_the_instant_a_booking_completes_is_accepted(platform: Platform):
    url = platform.url
    owner, runner = j.register(url, "owner"), j.ready_runner(url)
    booking_id = j.create_booking(owner)["id"]
    j.pay(owner, booking_id)
    j.accept(runner, booking_id)
    j.booking_step(runner, booking_id, "pickup", "in_progress")
    j.booking_step(runner, booking_id, "deliver", "delivered")
    wait_until(lambda: j.booking_status(owner, booking_id) == "completed", timeout=30,
               interval=0.01, message="booking completed")
    by_owner = j.body(owner.post("/api/v1/reviews", {"booking_id": booking_id, "rating": 5}), 201)
    by_runner = j.body(runner.post("/api/v1/reviews", {"booking_id": booking_id, "rating": 4}), 201)
    assert (by_owner["reviewee_id"], by_runner["reviewee_id"]) == (runner.id, owner.id)
