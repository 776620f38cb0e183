"""On PostgreSQL, NUL and numbers beyond a column used to fail in the database (500): now 400."""

import pytest

from kilat.platform.schemas import INT32_MAX
from tests.service.payment.test_input_bounds import ACCOUNT, promo_body, refused


@pytest.mark.parametrize("terms", [
    {"code": "NUL\x00CODE"}, {"description": "nul\x00"}, {"discount_value": 2**63},
    {"max_uses": 2**63}, {"max_uses": INT32_MAX + 1}, {"min_amount_cents": 10**30},
])
async def test_a_promo_postgres_cannot_store_is_400(world, terms):
    response = await world.client.post("/api/v1/promos", json=promo_body(**terms),
                                       headers=world.admin.headers)
    assert refused(response), response.text


async def test_a_promo_at_the_integer_column_limit_is_stored(world):
    promo = await world.promo("MANY", max_uses=INT32_MAX)
    assert promo["max_uses"] == INT32_MAX


@pytest.mark.parametrize("body", [
    {"code": "SAVE\x0010", "amount_cents": 4423}, {"code": "SAVE10", "amount_cents": 10**30},
])
async def test_validating_a_promo_postgres_cannot_read_is_400(world, body):
    await world.promo("SAVE10")
    response = await world.client.post("/api/v1/promos/validate", json=body,
                                       headers=world.person("owner").headers)
    assert refused(response), response.text


async def test_a_payout_destination_with_a_nul_is_400(world):
    response = await world.client.post("/api/v1/payouts/destinations",
                                       json=ACCOUNT | {"account_name": "Ali\x00"},
                                       headers=world.person("runner").headers)
    assert refused(response), response.text
