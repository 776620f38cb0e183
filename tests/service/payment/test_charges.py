"""The verticals' charges: a request event is captured at once, declined, or retried; one
charge and one ledger posting however often the request arrives."""

from sqlalchemy import func, select

from kilat.services.payment.models import LedgerEntry, ProviderIntent
from tests.service.payment.charges import charge_of, charge_request, outcomes


async def test_a_ride_charge_is_captured_and_answered(world):
    passenger, driver = world.person("passenger"), world.person("driver")
    request = charge_request(passenger, amount=8000, payee=driver, reference="RIDE-1")
    await world.send(request)
    charge = await charge_of(world, request.charge_id, "captured")
    assert (charge["amount"], charge["currency"]) == (8000, "IDR")
    assert (charge["payee_amount"], charge["fee_amount"]) == (7600, 400)
    [event] = await world.await_events("payment.charge_captured")
    assert event["charge_id"] == str(request.charge_id) and event["source"] == "rides"
    assert (event["amount"], event["currency"], event["payee_amount"]) == (8000, "IDR", 7600)
    assert event["reference_id"] == str(request.reference_id)


async def test_a_declined_card_fails_the_charge_with_the_reason(world):
    request = charge_request(world.person("passenger"), source="rail", amount=55000,
                             payment_method="pm_card_insufficientFunds")
    await world.send(request)
    charge = await charge_of(world, request.charge_id, "failed")
    assert charge["failure_reason"] == "card declined: insufficient_funds"
    [event] = await world.await_events("payment.charge_failed")
    assert (event["reason"], event["currency"]) == ("card declined: insufficient_funds", "BDT")
    assert world.events("payment.charge_captured") == []


async def test_a_split_over_the_amount_fails_without_calling_the_processor(world):
    request = charge_request(world.person("customer"), source="parcels", amount=1000,
                             payee=world.person("courier"), payee_amount=900, fee_amount=200)
    await world.send(request)
    [event] = await world.await_events("payment.charge_failed")
    assert event["reason"] == "payee_amount 900 + fee_amount 200 exceeds amount 1000"
    async with world.runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(ProviderIntent)) == 0


async def test_a_redelivered_request_is_one_charge_and_one_posting(world):
    request = charge_request(world.person("passenger"), payee=world.person("driver"))
    for _ in range(3):
        await world.send(request)  # the same fact under three event ids
    await charge_of(world, request.charge_id, "captured")
    await world.send(request)
    await world.runtime.relay.drain()
    await world.await_events("payment.charge_captured")
    async with world.runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(ProviderIntent)) == 1
        entries = await session.scalar(select(func.count()).where(
            LedgerEntry.reference == f"charge:{request.charge_id}"))
        assert entries == 1
    assert len(outcomes(world, "payment.charge_captured", request.charge_id)) == 1


async def test_a_transient_processor_error_is_retried_and_charges_once(world):
    world.ctx.provider.faults.fail_next("charge", times=2, after_acting=True)
    request = charge_request(world.person("passenger"), amount=12000)
    await world.send(request)
    charge = await charge_of(world, request.charge_id, "captured")
    assert charge["provider_payment_id"].startswith("pi_")
    async with world.runtime.database.session(write=False) as session:
        intents = list(await session.scalars(select(ProviderIntent)))
    assert [(i.amount_cents, i.amount_received_cents) for i in intents] == [(12000, 12000)]


async def test_a_processor_down_past_the_last_try_fails_the_charge(world):
    world.ctx.settings.charge_max_attempts = 2
    world.ctx.provider.faults.fail_next("charge", times=2)
    request = charge_request(world.person("passenger"))
    await world.send(request)
    charge = await charge_of(world, request.charge_id, "failed")
    assert charge["failure_reason"] == "payment provider unavailable: charge: processor unavailable"
    [event] = await world.await_events("payment.charge_failed")
    assert event["charge_id"] == str(request.charge_id)


async def test_a_charge_taken_with_its_reply_lost_at_the_last_try_is_captured(world):
    world.ctx.settings.charge_max_attempts = 2
    world.ctx.provider.faults.fail_next("charge", times=2, after_acting=True)
    request = charge_request(world.person("passenger"))
    await world.send(request)
    await charge_of(world, request.charge_id, "captured")
    assert world.events("payment.charge_failed") == []
