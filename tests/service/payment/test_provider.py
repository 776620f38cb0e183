"""The built-in processor: manual capture, idempotency keys, declines, expiry; and the rail."""

from datetime import timedelta

import pytest

from kilat.platform.models import utcnow
from kilat.services.payment.adapters.provider import (
    AuthorizationExpired,
    CardDeclined,
    IntentStateError,
    ProviderError,
)
from kilat.services.payment.adapters.rail import UnknownTransfer


async def authorize(provider, key="k1", amount=4423, card=None):
    return await provider.authorize(amount_cents=amount, currency="MYR", payment_method=card,
                                    idempotency_key=key, reference="test")


async def test_authorize_holds_and_capture_takes_the_amount(world):
    provider = world.ctx.provider
    intent = await authorize(provider)
    assert (intent.status, intent.amount_received_cents) == ("requires_capture", 0)
    assert intent.expires_at - utcnow() > timedelta(days=6, hours=23)
    captured = await provider.capture(intent.id, idempotency_key="c1")
    assert (captured.status, captured.amount_received_cents) == ("succeeded", 4423)


async def test_a_repeated_key_returns_the_first_outcome_without_acting_again(world):
    provider = world.ctx.provider
    first = await authorize(provider, key="same")
    again = await authorize(provider, key="same", amount=1)
    assert again.id == first.id and again.amount_cents == 4423
    await provider.capture(first.id, idempotency_key="cap")
    assert (await provider.capture(first.id, idempotency_key="cap")).status == "succeeded"
    with pytest.raises(IntentStateError):
        await provider.cancel(first.id, idempotency_key="same")


async def test_declining_test_cards_decline_and_keep_declining_under_their_key(world):
    provider = world.ctx.provider
    for card, code in (("pm_card_chargeDeclined", "card_declined"),
                       ("pm_card_insufficientFunds", "insufficient_funds")):
        for _ in range(2):
            with pytest.raises(CardDeclined) as declined:
                await authorize(provider, key=card, card=card)
            assert declined.value.decline_code == code
    assert await provider.find("pm_card_chargeDeclined") is None


async def test_a_lapsed_hold_cannot_be_captured_but_can_be_cancelled(world):
    provider = world.ctx.provider
    intent = await authorize(provider)
    provider.clock = lambda: utcnow() + timedelta(days=7, seconds=1)
    with pytest.raises(AuthorizationExpired):
        await provider.capture(intent.id, idempotency_key="late")
    assert (await provider.cancel(intent.id, idempotency_key="drop")).status == "canceled"


async def test_cancelled_holds_cannot_be_captured_and_captured_ones_not_cancelled(world):
    provider = world.ctx.provider
    dropped = await authorize(provider, key="a")
    await provider.cancel(dropped.id, idempotency_key="a-cancel")
    with pytest.raises(IntentStateError):
        await provider.capture(dropped.id, idempotency_key="a-capture")
    taken = await authorize(provider, key="b")
    await provider.capture(taken.id, idempotency_key="b-capture")
    with pytest.raises(IntentStateError):
        await provider.cancel(taken.id, idempotency_key="b-cancel")
    refunded = await provider.refund(taken.id, idempotency_key="b-refund")
    assert refunded.amount_refunded_cents == 4423


async def test_charge_captures_at_once_and_faults_are_injectable(world):
    provider = world.ctx.provider
    provider.faults.fail_next("charge")
    with pytest.raises(ProviderError):
        await provider.charge(amount_cents=1990, currency="MYR", payment_method=None,
                              idempotency_key="s1", reference="sub")
    assert await provider.find("s1") is None
    intent = await provider.charge(amount_cents=1990, currency="MYR", payment_method=None,
                                   idempotency_key="s1", reference="sub")
    assert (intent.status, intent.amount_received_cents) == ("succeeded", 1990)
    with pytest.raises(ProviderError):
        await authorize(provider, card="pm_card_processingError")


async def test_the_rail_settles_after_its_delay_and_submits_once_per_transfer(world):
    rail = world.ctx.rail
    first = await rail.submit(transfer_id="t1", amount_cents=1000, currency="MYR", destination={})
    again = await rail.submit(transfer_id="t1", amount_cents=1000, currency="MYR", destination={})
    assert first.reference == again.reference and first.reference.startswith("DN-")
    assert (await rail.status(first.reference)).status == "processing"
    rail.clock = lambda: utcnow() + timedelta(seconds=1)
    assert (await rail.status(first.reference)).status == "completed"
    with pytest.raises(UnknownTransfer):
        await rail.status("DN-unknown")


async def test_partial_refunds_add_up_and_never_pass_what_was_captured(world):
    provider = world.ctx.provider
    intent = await provider.charge(amount_cents=5000, currency="IDR", payment_method=None,
                                   idempotency_key="ride", reference="ride")
    first = await provider.refund(intent.id, idempotency_key="r1", amount_cents=2000)
    assert first.amount_refunded_cents == 2000
    again = await provider.refund(intent.id, idempotency_key="r1", amount_cents=2000)
    assert again.amount_refunded_cents == 2000  # the same key gives back once
    with pytest.raises(IntentStateError):
        await provider.refund(intent.id, idempotency_key="r2", amount_cents=3001)
    with pytest.raises(IntentStateError):
        await provider.refund(intent.id, idempotency_key="r3", amount_cents=0)
    rest = await provider.refund(intent.id, idempotency_key="r4")
    assert rest.amount_refunded_cents == rest.amount_received_cents == 5000
    with pytest.raises(IntentStateError):
        await provider.refund(intent.id, idempotency_key="r5", amount_cents=1)
