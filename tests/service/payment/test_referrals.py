"""Referral credits: both sides credited on the referee's first completed booking, then spent."""

import uuid

from kilat.contracts.identity import ReferralRecorded
from kilat.platform.events import Event
from tests.service.payment.support import wait_for


async def refer(world, referrer, referee, code="REF-1a2b3c4d"):
    recorded = ReferralRecorded(referral_id=uuid.uuid4(), referrer_id=referrer.user_id,
                                referee_id=referee.user_id, code=code)
    await world.infra.bus.publish(Event(source="identity", type=recorded.TYPE,
                                        subject=recorded.subject, data=recorded.data()))


async def credit(world, person) -> int:
    response = await world.client.get("/api/v1/payments/credits/me", headers=person.headers)
    assert response.status_code == 200
    return response.json()["data"]["balance_cents"]


async def complete_a_booking(world, owner):
    runner = world.person("runner")
    booking = await world.book(owner)
    await world.accept(booking, runner)
    await world.deliver(booking)
    await world.complete(booking)
    await world.seen(booking, "completed")
    return booking


async def test_first_completed_booking_credits_referrer_and_referee(world):
    referrer, referee = world.person("owner"), world.person("owner")
    await refer(world, referrer, referee)
    await complete_a_booking(world, referee)

    async def both_credited():
        return await credit(world, referrer) == 500 and await credit(world, referee) == 500

    await wait_for(both_credited)
    events = await world.await_events("payment.referral_credited", 2)
    assert {(e["role"], e["user_id"]) for e in events} == {
        ("referrer", str(referrer.user_id)), ("referee", str(referee.user_id))}
    assert all(e["amount_cents"] == 500 and e["referral_code"] == "REF-1a2b3c4d" for e in events)


async def test_later_bookings_and_repeated_events_credit_nothing_more(world):
    referrer, referee = world.person("owner"), world.person("owner")
    await refer(world, referrer, referee)
    await refer(world, referrer, referee)
    await complete_a_booking(world, referee)
    await complete_a_booking(world, referee)
    await world.await_events("payment.referral_credited", 2)
    assert await credit(world, referee) == 500 and await credit(world, referrer) == 500
    assert len(world.events("payment.referral_credited")) == 2


async def test_a_referral_recorded_after_a_completed_booking_credits_at_once(world):
    referrer, referee = world.person("owner"), world.person("owner")
    await complete_a_booking(world, referee)
    await refer(world, referrer, referee)
    await world.await_events("payment.referral_credited", 2)


async def test_no_completed_booking_no_credit(world):
    referrer, referee = world.person("owner"), world.person("owner")
    await refer(world, referrer, referee)
    booking = await world.book(referee)
    await world.cancel(booking)
    await world.seen(booking, "cancelled")
    assert await credit(world, referee) == 0


async def test_credit_is_spent_on_the_next_payment_and_returned_by_a_refund(world):
    referrer, referee = world.person("owner"), world.person("owner")
    await refer(world, referrer, referee)
    await complete_a_booking(world, referee)
    await world.await_events("payment.referral_credited", 2)
    booking = await world.book(referee, price=4423)
    payment = (await world.pay(referee, booking)).json()["data"]
    assert (payment["credit_applied_cents"], payment["charged_cents"]) == (500, 3923)
    assert await credit(world, referee) == 0
    await world.cancel(booking)
    await world.payment_in(payment["id"], "refunded")
    assert await credit(world, referee) == 500
