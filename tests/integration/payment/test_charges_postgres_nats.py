"""The verticals' charges on PostgreSQL with their requests over NATS JetStream: captured once
however often the request arrives, refunded in part up to the total, the driver's share visible."""

import asyncio

from sqlalchemy import func, select

from kilat.services.payment.models import LedgerEntry, ProviderIntent
from tests.service.payment.charges import charge_of, charge_request, refund_request


async def test_a_charge_is_captured_once_refunded_in_part_and_paid_to_the_driver(world):
    passenger, driver = world.person("passenger"), world.person("driver")
    request = charge_request(passenger, source="rail", amount=60000, payee=driver)
    await asyncio.gather(*(world.send(request) for _ in range(3)))
    charge = await charge_of(world, request.charge_id, "captured", timeout=15)
    assert (charge["amount"], charge["currency"], charge["payee_amount"]) == (60000, "BDT", 57000)
    for amount in (10000, 50000, 1):
        await world.send(refund_request(request, amount))
    refunded = await world.await_events("payment.charge_refunded", 2, timeout=15)
    assert [e["refunded_total"] for e in refunded] == [10000, 60000]
    [refused] = await world.await_events("payment.refund_failed", timeout=15)
    assert refused["reason"] == "refund of 1 exceeds the 0 BDT left to refund"
    assert len(world.events("payment.charge_captured")) == 1
    async with world.runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(ProviderIntent)) == 1
        assert await session.scalar(select(func.count()).where(
            LedgerEntry.reference == f"charge:{request.charge_id}")) == 1
    balance = await world.client.get("/api/v1/payouts/balance", headers=driver.headers)
    data = balance.json()["data"]
    assert (data["available_cents"], data["currency"]) == (57000, "BDT")  # earned in taka


async def test_text_postgres_cannot_store_is_cleaned_and_an_oversized_split_is_refused(world):
    payer = world.person("customer")
    odd = charge_request(payer, source="parcels", reference="TRK\x00" + "9" * 150,
                         description="fragile\x00")
    await world.send(odd)
    charge = await charge_of(world, odd.charge_id, "captured", timeout=15)
    assert charge["reference"] == "TRK" + "9" * 97 and charge["description"] == "fragile"
    huge = charge_request(payer, source="parcels", amount=2**63, payee=world.person("courier"),
                          payee_amount=2**64, fee_amount=1)
    await world.send(huge)
    failed = await charge_of(world, huge.charge_id, "failed", timeout=15)
    assert failed["failure_reason"] == "amount is too large"
