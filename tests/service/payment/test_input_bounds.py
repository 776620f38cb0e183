"""Numbers beyond their column and text a database cannot store are 400, never 500."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kilat.platform.models import utcnow
from kilat.platform.schemas import INT32_MAX, MAX_CENTS
from kilat.services.payment.models import PayoutDestination, Promo

ACCOUNT = {"bank_name": "Maybank", "account_name": "Ali Runner", "account_number": "514012345678"}


def promo_body(**terms) -> dict:
    return {"code": "BIG10", "discount_type": "fixed", "discount_value": 100,
            "valid_from": utcnow().isoformat(),
            "valid_until": (utcnow() + timedelta(days=1)).isoformat()} | terms


async def count(world, model) -> int:
    async with world.runtime.database.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(model))


def refused(response) -> bool:
    body = response.json()
    return response.status_code == 400 and body["success"] is False and body["error"] != ""


@pytest.mark.parametrize("terms", [
    {"discount_value": 2**63}, {"discount_value": 10**30}, {"max_uses": 2**63},
    {"max_uses": INT32_MAX + 1}, {"min_amount_cents": 2**63}, {"max_discount_cents": 10**30},
    {"discount_value": MAX_CENTS + 1}, {"code": "NUL\x00CODE"}, {"description": "bell\x07"},
])
async def test_a_promo_beyond_its_columns_is_400(world, terms):
    response = await world.client.post("/api/v1/promos", json=promo_body(**terms),
                                       headers=world.admin.headers)
    assert refused(response), response.text
    assert await count(world, Promo) == 0


async def test_a_promo_at_the_column_limits_is_accepted(world):
    promo = await world.promo("LIMITS", discount_type="fixed", discount_value=MAX_CENTS,
                              max_uses=INT32_MAX, min_amount_cents=MAX_CENTS)
    assert (promo["discount_value"], promo["max_uses"]) == (MAX_CENTS, INT32_MAX)


@pytest.mark.parametrize("body", [
    {"code": "SAVE10", "amount_cents": 10**30}, {"code": "SAVE10", "amount_cents": 2**63},
    {"code": "SAVE\x0010", "amount_cents": 4423},
])
async def test_validating_a_hostile_promo_request_is_400(world, body):
    await world.promo("SAVE10")
    response = await world.client.post("/api/v1/promos/validate", json=body,
                                       headers=world.person("owner").headers)
    assert refused(response), response.text


@pytest.mark.parametrize("change", [
    {"bank_name": "May\x00bank"}, {"account_name": "Ali\x1bRunner"},
])
async def test_a_payout_destination_with_control_characters_is_400(world, change):
    response = await world.client.post("/api/v1/payouts/destinations", json=ACCOUNT | change,
                                       headers=world.person("runner").headers)
    assert refused(response), response.text
    assert await count(world, PayoutDestination) == 0


async def test_a_cash_out_beyond_any_real_amount_is_400(world):
    response = await world.client.post(
        "/api/v1/payouts/cash-out", headers=world.person("runner").headers,
        json={"amountMyrCents": 10**30, "destinationId": "8d7f5b4e-5a1b-4f9e-9a55-0c2a1c9e8f10"})
    assert refused(response), response.text
