"""Schemathesis over the booking API: never a 5xx, and every response matches the OpenAPI.

Path ids are either generated or those of a real booking and pet, so the fuzzing also reaches the
rules behind the 404s.
"""

import httpx

from tests.service.booking.support import booking_at, create_booking
from tests.support.contract import fuzz_openapi

OPERATIONS = 24  # 22 booking operations and the two dead-letter admin routes
RUNNER_STEPS = ("/accept", "/pickup", "/deliver", "/decline")


async def fuzz_booking_api(client: httpx.AsyncClient, people, examples: int) -> None:
    """Fuzz every operation with generated and real path ids; raises on the first failure."""
    booking = await booking_at(client, people, "accepted")
    await create_booking(client, people.owner)
    pet = (await client.post("/api/v1/pets", headers=people.owner.headers,
                             json={"name": "Milo", "pet_type": "cat"})).json()["data"]

    def headers_for(_method: str, path: str) -> dict[str, str]:
        if path.startswith("/api/v1/admin"):
            return people.admin.headers
        if path.endswith(RUNNER_STEPS):
            return people.runner.headers
        return people.owner.headers

    fuzzed = await fuzz_openapi(client, headers_for, examples=examples,
                                ids={"booking_id": booking["id"], "pet_id": pet["id"]})
    assert fuzzed == OPERATIONS
