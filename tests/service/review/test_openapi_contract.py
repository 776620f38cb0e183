"""Schemathesis over the review API: never a 5xx, every response matches the OpenAPI."""

from tests.service.review.support import completed_trip, review, review_service
from tests.support.contract import fuzz_openapi
from tests.support.harness import auth_headers

OPERATIONS = 8 + 2  # the review service's, and the kernel's two dead-letter admin routes


async def test_every_operation_keeps_its_openapi_contract(infra):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        written = (await review(client, trip, trip.owner, 5, tags=["punctual"])).json()["data"]
        admin = auth_headers(infra, "admin")
        ids = {"review_id": written["id"], "booking_id": str(trip.booking_id),
               "runner_id": str(trip.runner.user_id)}

        def headers_for(_method: str, path: str) -> dict:
            return admin if path.startswith("/api/v1/admin") else trip.owner.headers

        assert await fuzz_openapi(client, headers_for, ids=ids) == OPERATIONS
