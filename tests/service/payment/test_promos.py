"""Promo codes: admin creation, validation, listing, and real use at initiate."""

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from kilat.platform.models import utcnow
from kilat.services.payment.models import Promo, PromoUsage


async def test_admin_creates_a_promo_with_a_normalised_code(world):
    promo = await world.promo("  save10 ", max_uses=5, min_amount_cents=1000,
                              max_discount_cents=500, description="launch week")
    assert promo["code"] == "SAVE10" and promo["current_uses"] == 0
    terms = (promo["max_uses"], promo["min_amount_cents"], promo["max_discount_cents"])
    assert terms == (5, 1000, 500)


async def test_duplicate_codes_are_409_whatever_their_case(world):
    await world.promo("SAVE10")
    response = await world.client.post("/api/v1/promos", headers=world.admin.headers, json={
        "code": "save10", "discount_type": "fixed", "discount_value": 100,
        "valid_from": utcnow().isoformat(),
        "valid_until": (utcnow() + timedelta(days=1)).isoformat()})
    assert response.status_code == 409 and response.json()["error"] == "promo code already exists"


async def test_only_admins_create_promos(world):
    owner = world.person("owner")
    response = await world.client.post("/api/v1/promos", json={}, headers=owner.headers)
    assert response.status_code == 403


async def test_invalid_promos_are_400(world):
    start, end = utcnow(), utcnow() + timedelta(days=1)
    base = {"code": "OK10", "discount_type": "percentage", "discount_value": 10,
            "valid_from": start.isoformat(), "valid_until": end.isoformat()}
    for change in ({"discount_value": 101}, {"discount_value": 0}, {"discount_type": "bogus"},
                   {"valid_until": start.isoformat(), "valid_from": end.isoformat()},
                   {"valid_from": "2026-01-01T00:00:00"}, {"code": "a!"}, {"max_uses": -1}):
        response = await world.client.post("/api/v1/promos", json=base | change,
                                           headers=world.admin.headers)
        assert response.status_code == 400, change
    async with world.runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Promo)) == 0


async def validate(world, person, code, amount):
    response = await world.client.post("/api/v1/promos/validate", headers=person.headers,
                                       json={"code": code, "amount_cents": amount})
    assert response.status_code == 200
    return response.json()["data"]


async def test_validate_answers_every_case_with_200(world):
    owner = world.person("owner")
    await world.promo("TEN", discount_value=10, min_amount_cents=2000)
    await world.promo("OLD", valid_from=(utcnow() - timedelta(days=9)).isoformat(),
                      valid_until=(utcnow() - timedelta(days=1)).isoformat())
    assert await validate(world, owner, "ten", 4423) == {
        "valid": True, "code": "TEN", "discount_cents": 442, "message": None}
    assert (await validate(world, owner, "NOPE", 4423))["message"] == "promo code not found"
    assert (await validate(world, owner, "OLD", 4423))["message"] == \
        "promo code is expired or fully used"
    assert (await validate(world, owner, "TEN", 1999))["message"] == \
        "minimum amount of 2000 cents required"


async def test_active_promos_list_only_usable_ones_and_admin_lists_all(world):
    owner = world.person("owner")
    await world.promo("LIVE")
    await world.promo("SOON", valid_from=(utcnow() + timedelta(days=1)).isoformat(),
                      valid_until=(utcnow() + timedelta(days=3)).isoformat())
    active = (await world.client.get("/api/v1/promos/active", headers=owner.headers)).json()
    assert [p["code"] for p in active["data"]] == ["LIVE"]
    admin = await world.client.get("/api/v1/admin/promos?limit=1", headers=world.admin.headers)
    assert admin.json()["pagination"] == {"total": 2, "page": 1, "limit": 1, "total_pages": 2}
    dormant = await world.client.get("/api/v1/admin/promos?active=false",
                                     headers=world.admin.headers)
    assert [p["code"] for p in dormant.json()["data"]] == ["SOON"]
    forbidden = await world.client.get("/api/v1/admin/promos", headers=owner.headers)
    assert forbidden.status_code == 403


async def test_a_promo_on_initiate_discounts_the_charge_and_counts_the_use(world):
    owner = world.person("owner")
    await world.promo("SAVE10", discount_value=10, max_uses=3)
    booking = await world.book(owner, price=4423)
    response = await world.pay(owner, booking, amount_cents=4423, promo_code="save10")
    assert response.status_code == 201
    payment = response.json()["data"]
    assert (payment["promo_code"], payment["promo_discount_cents"]) == ("SAVE10", 442)
    assert (payment["amount_cents"], payment["charged_cents"]) == (4423, 3981)
    assert payment["runner_payout_cents"] == 4423 - 663
    active = await world.client.get("/api/v1/promos/active", headers=owner.headers)
    promo = active.json()["data"][0]
    assert promo["current_uses"] == 1
    assert (await validate(world, owner, "SAVE10", 4423))["message"] == \
        "you have already used this promo code"
    intent = await world.ctx.provider.retrieve(payment["stripe_payment_id"])
    assert intent.amount_cents == 3981


async def test_a_promo_is_used_once_per_user(world):
    owner = world.person("owner")
    await world.promo("ONCE")
    first = await world.pay(owner, await world.book(owner), promo_code="ONCE")
    second = await world.pay(owner, await world.book(owner), promo_code="ONCE")
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"] == "you have already used this promo code"


async def test_a_bad_promo_refuses_the_payment_without_holding_anything(world):
    owner = world.person("owner")
    await world.promo("BIG", min_amount_cents=10000)
    booking = await world.book(owner, price=4423)
    unknown = await world.pay(owner, booking, promo_code="WHAT")
    below = await world.pay(owner, booking, promo_code="BIG")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "promo code not found")
    assert below.status_code == 400
    assert below.json()["error"] == "minimum amount of 10000 cents required"
    assert (await world.pay(owner, booking)).status_code == 201


async def test_refunded_booking_gives_the_promo_use_back(world):
    owner = world.person("owner")
    await world.promo("BACK", max_uses=1)
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking, promo_code="BACK")).json()["data"]
    await world.cancel(booking)
    await world.payment_in(payment["id"], "refunded")
    async with world.runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(PromoUsage)) == 0
        assert (await session.scalar(select(Promo))).current_uses == 0


async def test_max_uses_is_never_exceeded_by_concurrent_initiates(world):
    """100 owners race for a promo limited to 10 uses: exactly 10 are discounted."""
    await world.promo("RUSH", discount_type="fixed", discount_value=500, max_uses=10)
    owners = [world.person("owner") for _ in range(100)]
    bookings = [await world.book(owner, announce=False) for owner in owners]
    await world.remember(bookings)
    responses = await asyncio.gather(*[world.pay(owner, booking, promo_code="RUSH")
                                       for owner, booking in zip(owners, bookings, strict=True)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 10 + [409] * 90
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {
        "promo code is expired or fully used"}
    assert all(r.json()["data"]["promo_discount_cents"] == 500
               for r in responses if r.status_code == 201)
    async with world.runtime.database.session(write=False) as session:
        assert (await session.scalar(select(Promo))).current_uses == 10
        assert await session.scalar(select(func.count()).select_from(PromoUsage)) == 10


async def test_demo_seed_adds_a_usable_welcome_promo_once(world):
    from kilat.services.payment import descriptor

    for _ in range(2):
        async with world.runtime.database.session() as session:
            await descriptor.seed_demo(session)
    owner = world.person("owner")
    assert (await validate(world, owner, "welcome10", 4423))["discount_cents"] == 442
    async with world.runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Promo)) == 1
