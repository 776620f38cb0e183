"""The payment service on PostgreSQL with booking events over NATS JetStream.

The test plays the booking service: it publishes the booking's events on the bus and, like the
booking service, completes the booking when ``payment.escrow_released`` arrives.
"""

import asyncio

from sqlalchemy import func, select

from kilat.services.payment.models import Payment, Promo, PromoUsage


async def test_delivered_booking_is_released_then_completed(world):
    owner, runner = world.person("owner"), world.person("runner")
    await world.promo("WELCOME", discount_type="fixed", discount_value=1000, max_uses=100)
    booking = await world.book(owner, price=150000)
    response = await world.pay(owner, booking, amount_cents=150000, promo_code="welcome")
    assert response.status_code == 201
    payment = response.json()["data"]
    assert (payment["escrow_status"], payment["charged_cents"]) == ("held", 149000)
    await world.accept(booking, runner)
    await world.deliver(booking)
    released = await world.payment_in(payment["id"], "released", timeout=15)
    assert (released["platform_fee_cents"], released["runner_payout_cents"]) == (22500, 127500)
    [event] = await world.await_events("payment.escrow_released", timeout=15)
    assert event["runner_id"] == str(runner.user_id) and event["runner_payout_cents"] == 127500
    await world.complete(booking)
    await world.seen(booking, "completed")
    assert (await world.payment(payment["id"]))["escrow_status"] == "released"
    assert len(world.events("payment.escrow_released")) == 1
    balance = await world.client.get("/api/v1/payouts/balance", headers=runner.headers)
    assert balance.json()["data"]["available_cents"] == 127500


async def test_cancelled_paid_booking_is_refunded(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking)).json()["data"]
    await world.cancel(booking, reason="vet appointment moved")
    refunded = await world.payment_in(payment["id"], "refunded", timeout=15)
    assert refunded["refund_reason"] == "booking cancelled: vet appointment moved"
    [event] = await world.await_events("payment.escrow_refunded", timeout=15)
    assert event["owner_id"] == str(owner.user_id) and event["amount_cents"] == 4423


async def test_promo_max_uses_holds_under_100_concurrent_initiates(world):
    await world.promo("RUSH", discount_type="fixed", discount_value=500, max_uses=10)
    owners = [world.person("owner") for _ in range(100)]
    bookings = [await world.book(owner, announce=False) for owner in owners]
    await world.remember(bookings)
    responses = await asyncio.gather(*[world.pay(owner, booking, promo_code="RUSH")
                                       for owner, booking in zip(owners, bookings, strict=True)])
    assert sorted(r.status_code for r in responses) == [201] * 10 + [409] * 90
    async with world.runtime.database.session(write=False) as session:
        assert (await session.scalar(select(Promo))).current_uses == 10
        assert await session.scalar(select(func.count()).select_from(PromoUsage)) == 10
        held = await session.scalar(select(func.count()).where(Payment.escrow_status == "held"))
        assert held == 10


async def test_concurrent_initiates_for_one_booking_hold_once(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    await world.seen(booking, "requested")
    responses = await asyncio.gather(*[world.pay(owner, booking) for _ in range(5)])
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
