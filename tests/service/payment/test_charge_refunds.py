"""Refunds of the verticals' charges: partial, several, never past what was captured."""

from sqlalchemy import select

from kilat.services.payment.models import LedgerPosting, ProviderIntent
from tests.service.payment.charges import (
    REFUNDS,
    charge_of,
    charge_request,
    outcomes,
    refund_request,
)


async def captured(world, **fields):
    request = charge_request(world.person("passenger"), source="rail", amount=50000, **fields)
    await world.send(request)
    await charge_of(world, request.charge_id, "captured")
    return request


async def test_two_partial_refunds_up_to_the_total_then_a_refusal(world):
    charge = await captured(world)
    first, second, third = (refund_request(charge, amount) for amount in (20000, 30000, 1))
    await world.send(first)
    await world.await_events("payment.charge_refunded")
    await world.send(second)
    done = await world.await_events("payment.charge_refunded", 2)
    assert [(e["amount"], e["refunded_total"]) for e in done] == [(20000, 20000), (30000, 50000)]
    assert [e["refund_id"] for e in done] == [str(first.refund_id), str(second.refund_id)]
    await world.send(third)
    [refused] = await world.await_events("payment.refund_failed")
    assert refused["refund_id"] == str(third.refund_id)
    assert refused["reason"] == "refund of 1 exceeds the 0 BDT left to refund"
    detail = await charge_of(world, charge.charge_id)
    assert detail["refunded_total"] == 50000
    assert [(r["amount"], r["status"]) for r in detail["refunds"]] == [
        (20000, "refunded"), (30000, "refunded"), (1, "failed")]
    async with world.runtime.database.session(write=False) as session:
        intent = await session.scalar(select(ProviderIntent))
    assert intent.amount_refunded_cents == 50000


async def test_a_refund_over_what_is_left_is_refused_and_the_rest_stays_refundable(world):
    charge = await captured(world)
    await world.send(refund_request(charge, 50001))
    [refused] = await world.await_events("payment.refund_failed")
    assert refused["reason"] == "refund of 50001 exceeds the 50000 BDT left to refund"
    await world.send(refund_request(charge, 50000))
    [done] = await world.await_events("payment.charge_refunded")
    assert done["refunded_total"] == 50000


async def test_a_redelivered_refund_gives_back_once(world):
    charge = await captured(world)
    refund = refund_request(charge, 10000)
    for _ in range(3):
        await world.send(refund)
    await world.await_events("payment.charge_refunded")
    await world.runtime.relay.drain()
    assert len(outcomes(world, "payment.charge_refunded", charge.charge_id)) == 1
    assert (await charge_of(world, charge.charge_id))["refunded_total"] == 10000


async def test_a_refund_asked_before_the_capture_waits_for_it(world):
    world.ctx.provider.faults.fail_next("charge")
    request = charge_request(world.person("customer"), source="parcels", amount=3000)
    await world.send(request)
    await world.send(refund_request(request, 3000))
    [done] = await world.await_events("payment.charge_refunded")
    assert done["refunded_total"] == 3000
    assert outcomes(world, "payment.charge_captured", request.charge_id)


async def test_refunds_of_a_declined_or_unknown_charge_fail(world):
    declined = charge_request(world.person("customer"), source="parcels",
                              payment_method="pm_card_chargeDeclined")
    await world.send(declined)
    await world.send(refund_request(declined, 100))
    await charge_of(world, declined.charge_id, "failed")
    unknown = refund_request(charge_request(world.person("customer"), source="parcels"), 100)
    await world.send(unknown)
    failed = await world.await_events("payment.refund_failed", 2)
    reasons = {e["charge_id"]: e["reason"] for e in failed}
    assert reasons == {str(declined.charge_id): "the charge was not captured",
                       str(unknown.charge_id): "unknown charge"}


async def test_a_refund_from_another_vertical_or_currency_is_refused(world):
    charge = await captured(world)
    await world.send(refund_request(charge, 100, currency="IDR"))
    as_rail = refund_request(charge, 100).model_dump()
    await world.send(REFUNDS["parcels"](**as_rail | {"source": "parcels"}))
    failed = await world.await_events("payment.refund_failed", 2)
    assert sorted(e["reason"] for e in failed) == ["the charge belongs to rail",
                                                   "the charge is in BDT"]


async def test_a_refund_comes_from_platform_funds_and_the_driver_keeps_the_share(world):
    courier = world.person("courier")
    charge = await captured(world, payee=courier, payee_amount=40000, fee_amount=9000)
    await world.send(refund_request(charge, 25000))
    await world.await_events("payment.charge_refunded")
    balances = await _balances(world)
    assert balances[f"payee:{courier.user_id}:BDT"] == 40000
    assert balances["platform:fees:BDT"] == 10000 - 5000  # half refunded: half the take back
    assert balances["platform:payee_refunds:BDT"] == -20000
    assert balances[f"card:{charge.payer_id}:BDT"] == -25000


async def _balances(world) -> dict[str, int]:
    async with world.runtime.database.session(write=False) as session:
        rows = await session.execute(select(LedgerPosting.account, LedgerPosting.amount_cents))
    totals: dict[str, int] = {}
    for account, amount in rows:
        totals[account] = totals.get(account, 0) + amount
    return totals


async def test_a_refund_whose_reply_was_lost_is_retried_and_gives_back_once(world):
    charge = await captured(world)
    world.ctx.provider.faults.fail_next("refund", after_acting=True)
    await world.send(refund_request(charge, 15000))
    [done] = await world.await_events("payment.charge_refunded")
    assert done["refunded_total"] == 15000
    async with world.runtime.database.session(write=False) as session:
        intent = await session.scalar(select(ProviderIntent))
    assert intent.amount_refunded_cents == 15000
