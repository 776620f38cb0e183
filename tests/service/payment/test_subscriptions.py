"""Subscriptions: public plans, a charged subscribe, cancel, expiry, the discount at initiate."""

from datetime import timedelta

from sqlalchemy import select

from kilat.platform.models import utcnow
from kilat.services.payment.jobs import sweep
from kilat.services.payment.models import ProviderIntent, Subscription


async def subscribe(world, person, plan="premium", **extra):
    return await world.client.post("/api/v1/subscriptions", json={"plan": plan, **extra},
                                   headers=person.headers)


async def test_plans_are_public(world):
    response = await world.client.get("/api/v1/subscriptions/plans")
    assert response.status_code == 200
    plans = {p["plan"]: p for p in response.json()["data"]}
    assert (plans["basic"]["price_cents"], plans["basic"]["discount_percent"]) == (1990, 5)
    assert (plans["premium"]["price_cents"], plans["premium"]["discount_percent"]) == (4990, 15)
    assert plans["premium"]["description"].startswith("15% off every booking")


async def test_subscribe_charges_the_plan_price_and_starts_now(world):
    owner = world.person("owner")
    response = await subscribe(world, owner, "Basic")
    assert response.status_code == 201
    subscription = response.json()["data"]
    assert (subscription["plan"], subscription["status"], subscription["price_cents"]) == \
        ("basic", "active", 1990)
    assert subscription["auto_renew"] is True
    async with world.runtime.database.session(write=False) as session:
        intent = await session.scalar(select(ProviderIntent))
    assert (intent.status, intent.amount_received_cents) == ("succeeded", 1990)
    me = await world.client.get("/api/v1/subscriptions/me", headers=owner.headers)
    assert me.json()["data"]["id"] == subscription["id"]


async def test_a_second_subscription_is_409_and_an_unknown_plan_400(world):
    owner = world.person("owner")
    assert (await subscribe(world, owner)).status_code == 201
    second = await subscribe(world, owner, "basic")
    assert second.status_code == 409
    assert second.json()["error"] == "you already have an active premium subscription"
    unknown = await subscribe(world, world.person("owner"), "gold")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid plan 'gold'"
    assert (await world.client.post("/api/v1/subscriptions", json={})).status_code == 401


async def test_a_declined_card_creates_no_subscription(world):
    owner = world.person("owner")
    response = await subscribe(world, owner, payment_method="pm_card_chargeDeclined")
    assert response.status_code == 402
    me = await world.client.get("/api/v1/subscriptions/me", headers=owner.headers)
    assert me.status_code == 404 and me.json()["error"] == "no active subscription"
    assert (await subscribe(world, owner)).status_code == 201


async def test_a_provider_outage_refunds_nothing_taken_and_fails_cleanly(world):
    owner = world.person("owner")
    world.ctx.provider.faults.fail_next("charge", after_acting=True)
    response = await subscribe(world, owner)
    assert response.status_code == 503
    async with world.runtime.database.session(write=False) as session:
        intent = await session.scalar(select(ProviderIntent))
    assert intent.amount_refunded_cents == intent.amount_received_cents == 4990
    assert (await subscribe(world, owner)).status_code == 201


async def test_cancel_stops_the_subscription(world):
    owner = world.person("owner")
    await subscribe(world, owner)
    response = await world.client.post("/api/v1/subscriptions/me/cancel", headers=owner.headers)
    assert response.status_code == 200
    assert (response.json()["data"]["status"], response.json()["data"]["auto_renew"]) == \
        ("cancelled", False)
    assert (await world.client.get("/api/v1/subscriptions/me",
                                   headers=owner.headers)).status_code == 404
    again = await world.client.post("/api/v1/subscriptions/me/cancel", headers=owner.headers)
    assert again.status_code == 404
    await world.runtime.relay.drain()
    assert [e["status"] for e in world.events("payment.subscription_cancelled")] == ["cancelled"]


async def test_an_active_plan_discounts_the_next_payment(world):
    owner = world.person("owner")
    await subscribe(world, owner, "premium")
    booking = await world.book(owner, price=4423)
    payment = (await world.pay(owner, booking, amount_cents=4423)).json()["data"]
    assert (payment["subscription_discount_cents"], payment["charged_cents"]) == (663, 3760)
    assert payment["runner_payout_cents"] == 3760


async def test_expiry_job_expires_subscriptions_and_the_discount_stops(world):
    owner = world.person("owner")
    await subscribe(world, owner, "basic")
    await sweep(world.ctx, now=utcnow() + timedelta(days=31))
    async with world.runtime.database.session(write=False) as session:
        assert (await session.scalar(select(Subscription))).status == "expired"
    await world.runtime.relay.drain()
    assert len(world.events("payment.subscription_expired")) == 1
    payment = (await world.pay(owner, await world.book(owner))).json()["data"]
    assert payment["subscription_discount_cents"] == 0
    assert (await subscribe(world, owner, "basic")).status_code == 201
