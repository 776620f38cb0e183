"""Subscriptions: public plans, a charged subscribe, cancel, expiry, the discount at initiate."""

from datetime import timedelta

from sqlalchemy import select

from kilat.platform.models import utcnow
from kilat.services.payment.jobs import sweep
from kilat.services.payment.ledger import service as ledger
from kilat.services.payment.models import ProviderIntent, Subscription
from kilat.services.payment.subscriptions.service import RENEWAL_GRACE


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


async def stored_subscription(world) -> Subscription:
    async with world.runtime.database.session(write=False) as session:
        return await session.scalar(select(Subscription))


async def card_now_declines(world) -> None:
    async with world.runtime.database.session() as session:
        subscription = await session.scalar(select(Subscription))
        subscription.payment_method = "pm_card_chargeDeclined"


async def charges(world) -> list[ProviderIntent]:
    async with world.runtime.database.session(write=False) as session:
        return list(await session.scalars(select(ProviderIntent).order_by(ProviderIntent.created_at)))


async def test_an_auto_renewing_plan_is_charged_again_and_extended_once(world):
    owner = world.person("owner")
    started = (await subscribe(world, owner, "premium")).json()["data"]
    first_end = (await stored_subscription(world)).expires_at
    later = first_end + timedelta(minutes=5)
    await sweep(world.ctx, now=later)
    await sweep(world.ctx, now=later)  # a second sweep (or instance) charges nothing more
    renewed = await stored_subscription(world)
    assert (renewed.status, renewed.auto_renew) == ("active", True)
    assert renewed.started_at == first_end and renewed.expires_at == first_end + timedelta(days=30)
    assert [(c.status, c.amount_received_cents) for c in await charges(world)] == \
        [("succeeded", 4990), ("succeeded", 4990)]
    await world.runtime.relay.drain()
    [event] = world.events("payment.subscription_renewed")
    assert event["subscription_id"] == started["id"] and event["status"] == "active"
    assert world.events("payment.subscription_expired") == []
    me = (await world.client.get("/api/v1/subscriptions/me", headers=owner.headers)).json()["data"]
    assert me["id"] == started["id"]
    async with world.runtime.database.session(write=False) as session:
        report = await ledger.check(session)
    assert report.balanced


async def test_a_renewal_ahead_of_the_end_never_lets_the_discount_lapse(world):
    owner = world.person("owner")
    await subscribe(world, owner, "premium")
    first_end = (await stored_subscription(world)).expires_at
    await sweep(world.ctx, now=first_end - timedelta(seconds=10))  # within two sweeps of the end
    assert (await stored_subscription(world)).expires_at == first_end + timedelta(days=30)


async def test_a_declined_renewal_ends_the_plan_when_its_paid_period_is_over(world):
    owner = world.person("owner")
    await subscribe(world, owner, "basic")
    await card_now_declines(world)
    first_end = (await stored_subscription(world)).expires_at
    await sweep(world.ctx, now=first_end - timedelta(seconds=10))  # declined ahead of the end
    ahead = await stored_subscription(world)
    assert (ahead.status, ahead.auto_renew) == ("active", False)
    assert ahead.failure_reason == "renewal declined: card_declined"
    await sweep(world.ctx, now=first_end + timedelta(seconds=1))
    assert (await stored_subscription(world)).status == "expired"
    await world.runtime.relay.drain()
    [expired] = world.events("payment.subscription_expired")
    assert expired["failure_reason"] == "renewal declined: card_declined"


async def test_a_renewal_waits_out_a_provider_outage_within_the_grace(world):
    owner = world.person("owner")
    await subscribe(world, owner, "basic")
    first_end = (await stored_subscription(world)).expires_at
    world.ctx.provider.faults.fail_next("charge")
    await sweep(world.ctx, now=first_end + timedelta(hours=1))
    assert (await stored_subscription(world)).expires_at == first_end  # not renewed, not ended
    assert (await stored_subscription(world)).status == "active"
    await sweep(world.ctx, now=first_end + timedelta(hours=2))
    assert (await stored_subscription(world)).expires_at == first_end + timedelta(days=30)
    world.ctx.provider.faults.fail_next("charge", times=5)
    second_end = first_end + timedelta(days=30)
    await sweep(world.ctx, now=second_end + RENEWAL_GRACE + timedelta(hours=1))
    ended = await stored_subscription(world)
    assert ended.status == "expired" and ended.failure_reason.startswith("renewal failed")


async def test_a_cancelled_plan_is_not_renewed(world):
    owner = world.person("owner")
    await subscribe(world, owner, "basic")
    await world.client.post("/api/v1/subscriptions/me/cancel", headers=owner.headers)
    await sweep(world.ctx, now=utcnow() + timedelta(days=31))
    assert len(await charges(world)) == 1
    assert (await stored_subscription(world)).status == "cancelled"


async def test_expiry_job_expires_subscriptions_and_the_discount_stops(world):
    owner = world.person("owner")
    await subscribe(world, owner, "basic")
    await card_now_declines(world)
    await sweep(world.ctx, now=utcnow() + timedelta(days=31))
    async with world.runtime.database.session(write=False) as session:
        assert (await session.scalar(select(Subscription))).status == "expired"
    await world.runtime.relay.drain()
    assert len(world.events("payment.subscription_expired")) == 1
    payment = (await world.pay(owner, await world.book(owner))).json()["data"]
    assert payment["subscription_discount_cents"] == 0
    assert (await subscribe(world, owner, "basic")).status_code == 201


async def test_a_plan_cancelled_while_its_renewal_is_charged_gets_the_charge_back(world, monkeypatch):
    owner = world.person("owner")
    await subscribe(world, owner, "basic")
    first_end = (await stored_subscription(world)).expires_at
    provider, charge = world.ctx.provider, world.ctx.provider.charge

    async def cancelled_meanwhile(**request):
        intent = await charge(**request)
        response = await world.client.post("/api/v1/subscriptions/me/cancel", headers=owner.headers)
        assert response.status_code == 200
        return intent

    monkeypatch.setattr(provider, "charge", cancelled_meanwhile)
    await sweep(world.ctx, now=first_end - timedelta(seconds=10))
    renewal = (await charges(world))[-1]
    assert renewal.amount_received_cents == renewal.amount_refunded_cents == 1990
    assert (await stored_subscription(world)).status == "cancelled"
