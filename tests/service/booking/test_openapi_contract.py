"""Schemathesis fuzzes every booking operation on SQLite: no 5xx, responses match the OpenAPI."""

from tests.service.booking.fuzz import fuzz_booking_api


async def test_booking_api_never_fails_with_5xx_and_matches_its_schema(client, people):
    await fuzz_booking_api(client, people, examples=15)
