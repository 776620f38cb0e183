"""Release on delivery (the one event that asks), refund on cancellation or by an admin;
idempotent handlers."""

import uuid

from sqlalchemy import select

from kilat.platform.events import Event
from kilat.services.payment.models import Payment


async def held_payment(world, price=150000):
    owner, runner = world.person("owner"), world.person("runner")
    booking = await world.book(owner, price=price)
    payment = (await world.pay(owner, booking)).json()["data"]
    await world.accept(booking, runner)
    return owner, runner, booking, payment


async def test_delivery_releases_escrow_to_the_runner_with_the_fee_split(world):
    _, runner, booking, payment = await held_payment(world)
    await world.deliver(booking)
    released = await world.payment_in(payment["id"], "released")
    assert released["runner_id"] == str(runner.user_id) and released["escrow_released_at"]
    [event] = await world.await_events("payment.escrow_released")
    assert (event["runner_payout_cents"], event["platform_fee_cents"]) == (127500, 22500)
    assert event["runner_id"] == str(runner.user_id) and event["currency"] == "MYR"
    balance = await world.client.get("/api/v1/payouts/balance", headers=runner.headers)
    assert balance.json()["data"]["available_cents"] == 127500


async def test_completion_asks_for_no_second_release(world):
    _, _, booking, payment = await held_payment(world)
    await world.complete(booking)
    await world.seen(booking, "completed")
    async with world.runtime.database.session(write=False) as session:
        held = await session.get(Payment, uuid.UUID(payment["id"]))
    assert (held.escrow_status, held.pending_action) == ("held", None)


async def test_the_same_fact_twice_releases_once(world):
    _, _, booking, payment = await held_payment(world)
    await world.deliver(booking)
    await world.deliver(booking)
    await world.complete(booking)
    await world.payment_in(payment["id"], "released")
    await world.runtime.relay.drain()
    assert len(world.events("payment.escrow_released")) == 1
    assert (await world.ledger())["entries"] == 2


async def test_a_redelivered_event_is_handled_once(world):
    _, _, booking, payment = await held_payment(world)
    event = Event(source="booking", type="booking.delivery_confirmed", data={
        **{k: world.bookings[booking][k] for k in ("booking_id", "owner_id", "runner_id",
                                                   "estimated_price_cents", "currency")},
        "status": "delivered"})
    consumer = world.runtime.consumer
    assert await consumer.handle(event, consumer.handler_for(event.type))
    assert not await consumer.handle(event, consumer.handler_for(event.type))
    await world.payment_in(payment["id"], "released")


async def test_delivery_of_an_unpaid_booking_changes_nothing(world):
    owner, runner = world.person("owner"), world.person("runner")
    booking = await world.book(owner)
    await world.accept(booking, runner)
    await world.deliver(booking)
    await world.seen(booking, "delivered")
    async with world.runtime.database.session(write=False) as session:
        assert (await session.scalars(select(Payment))).all() == []


async def test_cancellation_refunds_a_held_payment(world):
    owner, _, booking, payment = await held_payment(world, price=4423)
    await world.cancel(booking, reason="pet is sick")
    refunded = await world.payment_in(payment["id"], "refunded")
    assert refunded["refund_reason"] == "booking cancelled: pet is sick" and refunded["refunded_at"]
    [event] = await world.await_events("payment.escrow_refunded")
    assert event["owner_id"] == str(owner.user_id) and event["amount_cents"] == 4423
    intent = await world.ctx.provider.retrieve(payment["stripe_payment_id"])
    assert intent.status == "canceled" and intent.amount_received_cents == 0


async def test_cancellation_without_payment_creates_nothing(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    await world.cancel(booking)
    await world.seen(booking, "cancelled")
    response = await world.client.get(f"/api/v1/payments/booking/{booking}", headers=owner.headers)
    assert response.status_code == 404 and response.json()["error"] == "Payment not found"


async def test_a_released_payment_is_not_refunded_by_a_late_cancellation(world):
    _, _, booking, payment = await held_payment(world)
    await world.deliver(booking)
    await world.payment_in(payment["id"], "released")
    await world.cancel(booking)
    await world.seen(booking, "cancelled")
    assert (await world.payment(payment["id"]))["escrow_status"] == "released"


async def test_admin_refunds_a_held_payment(world):
    _, _, _, payment = await held_payment(world)
    response = await world.client.post(f"/api/v1/payments/{payment['id']}/refund",
                                       json={"reason": "duplicate booking"},
                                       headers=world.admin.headers)
    assert response.status_code == 200
    body = response.json()["data"]
    assert body["escrow_status"] == "refunded"
    assert body["refund_reason"] == "admin refund: duplicate booking"


async def test_admin_refund_of_a_payment_that_is_not_held_is_422(world):
    _, _, booking, payment = await held_payment(world)
    await world.deliver(booking)
    await world.payment_in(payment["id"], "released")
    response = await world.client.post(f"/api/v1/payments/{payment['id']}/refund",
                                       json={"reason": "late"}, headers=world.admin.headers)
    assert response.status_code == 422 and response.json()["error"] == "payment is not held"


async def test_refund_needs_an_admin_a_reason_and_an_existing_payment(world):
    owner, _, _, payment = await held_payment(world)
    url = f"/api/v1/payments/{payment['id']}/refund"
    assert (await world.client.post(url, json={"reason": "x"},
                                    headers=owner.headers)).status_code == 403
    assert (await world.client.post(url, json={"reason": "  "},
                                    headers=world.admin.headers)).status_code == 400
    assert (await world.client.post(url, json={}, headers=world.admin.headers)).status_code == 400
    missing = await world.client.post(f"/api/v1/payments/{uuid.uuid4()}/refund",
                                      json={"reason": "x"}, headers=world.admin.headers)
    assert missing.status_code == 404
    assert (await world.payment(payment["id"]))["escrow_status"] == "held"


async def test_an_admin_refund_claimed_first_by_the_worker_still_answers_refunded(world,
                                                                                monkeypatch):
    import asyncio

    from kilat.services.payment.escrow.settlement import Settlement

    _, _, _, payment = await held_payment(world)
    carry_out = Settlement.run_action
    later = []

    async def the_worker_wins(self, payment_id):
        later.append(asyncio.get_running_loop().call_later(
            0.1, lambda: asyncio.ensure_future(carry_out(self, payment_id))))
        return False  # the worker, woken by the same commit, claimed the action first

    monkeypatch.setattr(Settlement, "run_action", the_worker_wins)
    response = await world.client.post(f"/api/v1/payments/{payment['id']}/refund",
                                       json={"reason": "duplicate booking"},
                                       headers=world.admin.headers)
    assert response.status_code == 200 and later
    assert response.json()["data"]["escrow_status"] == "refunded"
