"""The escrow saga when the card processor fails at each step: every executed step is undone."""

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from kilat.platform.models import utcnow
from kilat.services.payment.escrow.schemas import PaymentInitiate
from kilat.services.payment.escrow.service import Escrow
from kilat.services.payment.escrow.settlement import Settlement
from kilat.services.payment.jobs import sweep
from kilat.services.payment.models import Payment, PromoUsage, ProviderIntent


async def intents(world) -> list[ProviderIntent]:
    async with world.runtime.database.session(write=False) as session:
        return list(await session.scalars(select(ProviderIntent)))


async def test_declined_card_fails_the_payment_and_gives_the_promo_back(world):
    owner = world.person("owner")
    await world.promo("DECLINE10", max_uses=1)
    booking = await world.book(owner)
    response = await world.pay(owner, booking, promo_code="decline10",
                               payment_method="pm_card_chargeDeclined")
    assert response.status_code == 402
    assert response.json() == {"success": False, "error": "payment declined",
                               "detail": "card_declined"}
    payment = (await world.client.get(f"/api/v1/payments/booking/{booking}",
                                      headers=owner.headers)).json()["data"]
    assert payment["escrow_status"] == "failed"
    assert payment["failure_reason"] == "card declined: card_declined"
    [event] = await world.await_events("payment.failed")
    assert event["payment_id"] == payment["id"] and event["owner_id"] == str(owner.user_id)
    assert await intents(world) == []
    assert (await world.client.get("/api/v1/promos/active",
                                   headers=owner.headers)).json()["data"][0]["current_uses"] == 0


async def test_a_failed_payment_can_be_tried_again_with_another_card(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    first = await world.pay(owner, booking, payment_method="pm_card_insufficientFunds")
    assert first.status_code == 402 and first.json()["detail"] == "insufficient_funds"
    second = await world.pay(owner, booking, payment_method="pm_card_visa")
    assert second.status_code == 201
    assert second.json()["data"]["escrow_status"] == "held"
    assert second.json()["data"]["failure_reason"] is None


async def test_processor_down_before_authorizing_fails_cleanly_with_503(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    world.ctx.provider.faults.fail_next("authorize")
    response = await world.pay(owner, booking)
    assert response.status_code == 503
    assert response.json()["error"] == "payment provider unavailable"
    [event] = await world.await_events("payment.failed")
    assert event["reason"].startswith("payment provider error")
    assert await intents(world) == []


async def test_a_hold_made_but_unacknowledged_is_cancelled(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    world.ctx.provider.faults.fail_next("authorize", after_acting=True)
    response = await world.pay(owner, booking)
    assert response.status_code == 503
    [intent] = await intents(world)
    assert intent.status == "canceled" and intent.amount_received_cents == 0


async def test_booking_cancelled_while_authorizing_cancels_the_hold(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    await world.seen(booking, "requested")
    provider = world.ctx.provider
    authorize = provider.authorize

    async def authorize_then_cancel_booking(**kwargs):
        intent = await authorize(**kwargs)
        await world.cancel(booking)
        await world.seen(booking, "cancelled")
        return intent

    provider.authorize = authorize_then_cancel_booking
    response = await world.pay(owner, booking)
    assert response.status_code == 409
    assert response.json()["error"] == "booking became 'cancelled' while it was being paid"
    [intent] = await intents(world)
    assert intent.status == "canceled"
    [event] = await world.await_events("payment.failed")
    assert event["reason"].startswith("booking became")


async def test_capture_failing_for_a_while_is_retried_and_releases_once(world):
    owner, runner = world.person("owner"), world.person("runner")
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking)).json()["data"]
    await world.accept(booking, runner)
    world.ctx.provider.faults.fail_next("capture", times=2)
    world.ctx.provider.faults.fail_next("capture", after_acting=True)
    await world.deliver(booking)
    await world.payment_in(payment["id"], "released")
    [intent] = await intents(world)
    assert intent.status == "succeeded" and intent.amount_received_cents == 4423
    async with world.runtime.database.session(write=False) as session:
        row = await session.get(Payment, uuid.UUID(payment["id"]))
    assert row.action_attempts == 4 and row.last_error is None


async def test_refund_failing_for_a_while_is_retried(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking)).json()["data"]
    world.ctx.provider.faults.fail_next("cancel", times=2)
    await world.cancel(booking)
    await world.payment_in(payment["id"], "refunded")
    await world.runtime.relay.drain()
    assert len(world.events("payment.escrow_refunded")) == 1


async def test_hold_lapsing_before_capture_fails_the_payment_and_voids_escrow(world):
    owner, runner = world.person("owner"), world.person("runner")
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking)).json()["data"]
    await world.accept(booking, runner)
    world.ctx.provider.clock = lambda: utcnow() + timedelta(days=8)
    await world.deliver(booking)
    failed = await world.payment_in(payment["id"], "failed")
    assert failed["failure_reason"] == "authorization expired before capture"
    [event] = await world.await_events("payment.failed")
    assert event["payment_id"] == payment["id"]


async def test_sweep_fails_holds_whose_authorization_expired(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking)).json()["data"]
    await sweep(world.ctx, now=utcnow() + timedelta(days=6))
    assert (await world.payment(payment["id"]))["escrow_status"] == "held"
    await sweep(world.ctx, now=utcnow() + timedelta(days=7, minutes=1))
    failed = await world.payment(payment["id"])
    assert failed["escrow_status"] == "failed"
    assert failed["failure_reason"] == "authorization expired before delivery"


async def test_sweep_recovers_a_hold_interrupted_by_a_crash(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    await world.seen(booking, "requested")
    await world.promo("CRASH", max_uses=5)
    escrow = Escrow(world.ctx)
    user = world.infra.verifier.principal(owner.headers["Authorization"].split()[1])
    attempt = await escrow._open(user, PaymentInitiate(booking_id=booking, promo_code="CRASH"))
    await world.ctx.provider.authorize(amount_cents=attempt.charged_cents, currency="MYR",
                                       payment_method=None, idempotency_key=attempt.authorize_key,
                                       reference=str(attempt.payment_id))
    await sweep(world.ctx, now=utcnow() + timedelta(minutes=5))
    payment = await world.payment(str(attempt.payment_id))
    assert payment["escrow_status"] == "failed"
    assert payment["failure_reason"] == "payment was interrupted"
    [intent] = await intents(world)
    assert intent.status == "canceled"
    async with world.runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(PromoUsage)) == 0


async def test_concurrent_release_attempts_capture_once(world):
    owner, runner = world.person("owner"), world.person("runner")
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking)).json()["data"]
    await world.accept(booking, runner)
    await world.deliver(booking)
    settlement = Settlement(world.ctx)
    payment_id = uuid.UUID(payment["id"])
    await asyncio.gather(*[settlement.run_action(payment_id) for _ in range(3)])
    await world.payment_in(payment["id"], "released")
    await world.runtime.relay.drain()
    assert len(world.events("payment.escrow_released")) == 1
