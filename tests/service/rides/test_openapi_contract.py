"""Schemathesis fuzzes every rides operation: no 5xx, and every response matches the OpenAPI."""

from tests.service.rides.support import matched, rides_service
from tests.support.contract import fuzz_openapi

OPERATIONS = 16


async def test_rides_api_never_fails_with_5xx_and_matches_its_schema(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await matched(client, infra)
        offers = (await client.get("/api/v1/rides/offers", headers=trip.driver.headers)).json()
        ids = {"request_id": trip.request["id"], "ride_id": trip.ride_id,
               "offer_id": (offers["data"] or [{"id": trip.request["id"]}])[0]["id"]}

        def headers_for(_method: str, path: str) -> dict[str, str]:
            driver_paths = ("/drivers", "/offers", "/start", "/arrive")
            return (trip.driver if any(p in path for p in driver_paths) else trip.passenger).headers

        fuzzed = await fuzz_openapi(client, headers_for, ids=ids, paths=("/api/v1/rides",))
        assert fuzzed == OPERATIONS
