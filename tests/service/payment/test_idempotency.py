"""Idempotency-Key on the payment service's POSTs: replay, conflict, scope, expiry."""

import asyncio
from datetime import timedelta

from sqlalchemy import MetaData, func, select, update

from kilat.platform.idempotency import idempotency_table
from kilat.platform.models import utcnow
from kilat.services.payment.models import Payment, Promo

KEYS = idempotency_table(MetaData())


def keyed(person, key):
    return person.headers | {"Idempotency-Key": key}


async def count(world, model) -> int:
    async with world.runtime.database.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_same_key_and_body_returns_the_stored_payment(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    body = {"booking_id": booking, "amount_cents": 4423}
    first = await world.client.post("/api/v1/payments/initiate", json=body,
                                    headers=keyed(owner, "pay-1"))
    again = await world.client.post("/api/v1/payments/initiate", json=body,
                                    headers=keyed(owner, "pay-1"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await count(world, Payment) == 1
    without_key = await world.pay(owner, booking)
    assert without_key.status_code == 409


async def test_same_key_with_another_body_or_endpoint_is_409(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    await world.client.post("/api/v1/payments/initiate", json={"booking_id": booking},
                            headers=keyed(owner, "k"))
    other_body = await world.client.post("/api/v1/payments/initiate",
                                         json={"booking_id": booking, "amount_cents": 4423},
                                         headers=keyed(owner, "k"))
    other_route = await world.client.post("/api/v1/promos/validate",
                                          json={"code": "X", "amount_cents": 1},
                                          headers=keyed(owner, "k"))
    assert other_body.status_code == other_route.status_code == 409
    assert other_body.json()["error"] == "Idempotency-Key was already used for a different request"


async def test_keys_belong_to_their_caller(world):
    first, second = world.person("owner"), world.person("owner")
    booking_one, booking_two = await world.book(first), await world.book(second)
    one = await world.client.post("/api/v1/payments/initiate", json={"booking_id": booking_one},
                                  headers=keyed(first, "shared"))
    two = await world.client.post("/api/v1/payments/initiate", json={"booking_id": booking_two},
                                  headers=keyed(second, "shared"))
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["data"]["id"] != two.json()["data"]["id"]


async def test_a_decline_is_replayed_not_retried(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    body = {"booking_id": booking, "payment_method": "pm_card_chargeDeclined"}
    first = await world.client.post("/api/v1/payments/initiate", json=body,
                                    headers=keyed(owner, "declined"))
    again = await world.client.post("/api/v1/payments/initiate", json=body,
                                    headers=keyed(owner, "declined"))
    assert (first.status_code, again.status_code) == (402, 402)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    async with world.runtime.database.session(write=False) as session:
        assert (await session.scalar(select(Payment))).attempt == 1


async def test_concurrent_twins_hold_once(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    responses = await asyncio.gather(*[
        world.client.post("/api/v1/payments/initiate", json={"booking_id": booking},
                          headers=keyed(owner, "twin")) for _ in range(4)])
    assert {r.status_code for r in responses} <= {201, 409}
    held = [r.json()["data"]["id"] for r in responses if r.status_code == 201]
    assert len(set(held)) == 1 and await count(world, Payment) == 1


async def test_in_transaction_routes_store_the_response_with_the_change(world):
    admin = world.admin
    body = {"code": "ONCE", "discount_type": "fixed", "discount_value": 100,
            "valid_from": utcnow().isoformat(),
            "valid_until": (utcnow() + timedelta(days=1)).isoformat()}
    first = await world.client.post("/api/v1/promos", json=body, headers=keyed(admin, "promo"))
    again = await world.client.post("/api/v1/promos", json=body, headers=keyed(admin, "promo"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert await count(world, Promo) == 1


async def test_a_failed_in_transaction_request_keeps_no_key(world):
    owner = world.person("owner")
    response = await world.client.post("/api/v1/subscriptions/me/cancel",
                                       headers=keyed(owner, "cancel"))
    assert response.status_code == 404
    async with world.runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(KEYS)) == 0


async def test_cash_out_replay_keeps_the_camel_case_shape(world):
    from tests.service.payment.test_payouts import add_account, earn

    runner = world.person("runner")
    await earn(world, runner)
    account = await add_account(world, runner)
    body = {"amountMyrCents": 1000, "destinationId": account["id"]}
    first = await world.client.post("/api/v1/payouts/cash-out", json=body,
                                    headers=keyed(runner, "cash"))
    again = await world.client.post("/api/v1/payouts/cash-out", json=body,
                                    headers=keyed(runner, "cash"))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json() and "cashOutId" in again.json()


async def test_an_expired_key_runs_the_request_again(world):
    owner = world.person("owner")
    body = {"code": "NOPE", "amount_cents": 100}
    await world.client.post("/api/v1/promos/validate", json=body, headers=keyed(owner, "old"))
    async with world.runtime.database.session() as session:
        row = (await session.execute(select(KEYS))).one()
        assert row.expires_at - row.created_at >= timedelta(hours=24)
        await session.execute(update(KEYS).values(fingerprint="other",
                                                  expires_at=utcnow() - timedelta(seconds=1)))
    response = await world.client.post("/api/v1/promos/validate", json=body,
                                       headers=keyed(owner, "old"))
    assert response.status_code == 200 and "idempotent-replayed" not in response.headers


async def test_an_over_long_key_is_400(world):
    owner = world.person("owner")
    response = await world.client.post("/api/v1/promos/validate",
                                       json={"code": "X", "amount_cents": 1},
                                       headers=keyed(owner, "k" * 256))
    assert response.status_code == 400


async def test_the_key_header_is_documented_on_every_payment_post(world):
    spec = (await world.client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        if "post" in operations and not path.startswith("/api/v1/admin/events/"):
            names = [p["name"] for p in operations["post"].get("parameters", [])]
            assert "Idempotency-Key" in names, path
