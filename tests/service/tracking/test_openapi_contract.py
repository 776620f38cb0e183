"""Schemathesis fuzzes every tracking operation: no 5xx, and every response matches the OpenAPI."""

from kilat.services.tracking import descriptor
from tests.service.tracking.support import Trip, deliver, live, path
from tests.support.contract import fuzz_openapi
from tests.support.harness import running_service

OPERATIONS = 11


async def test_tracking_api_never_fails_with_5xx_and_matches_its_schema(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        for step in path(3):
            await runtime.bus.publish_fast("runner.location_update", trip.ping(*step))
        await live(runtime).drain_pings()
        await live(runtime).writer.flush()
        link = (await client.post(f"/api/v1/tracking/{trip.booking_id}/share",
                                  headers=trip.headers("owner"))).json()["data"]
        ids = {"booking_id": str(trip.booking_id), "token": link["share_token"],
               "share_id": link["id"]}
        fuzzed = await fuzz_openapi(client, lambda _method, _path: trip.headers("owner"), ids=ids,
                                    paths=("/api/v1/tracking", "/api/v1/chat"))
        assert fuzzed == OPERATIONS
