"""Schemathesis over the rail API: never a 5xx, every response matches the OpenAPI."""

from tests.service.rail.support import RAIL, rail_service
from tests.support.contract import fuzz_openapi
from tests.support.people import person

OPERATIONS = 41 + 2  # the rail service's, and the kernel's two dead-letter admin routes


async def test_every_operation_keeps_its_openapi_contract(infra):
    async with rail_service(infra) as rail:
        ana, admin, gate = rail.passenger(), person(infra, "admin"), person(infra, "gate")
        booking = await rail.confirmed(ana, seats=1)
        tickets = (await rail.client.get(f"{RAIL}/bookings/{booking['id']}/tickets",
                                         headers=ana.headers)).json()["data"]
        train = (await rail.client.get(f"{RAIL}/admin/trains",
                                       headers=admin.headers)).json()["data"][0]
        ids = {"booking_id": booking["id"], "journey_id": booking["journey_id"],
               "ticket_id": tickets[0]["id"], "train_id": train["id"],
               "coach_id": train["coaches"][0]["id"]}

        def headers_for(_method: str, path: str) -> dict:
            if "/admin" in path:
                return admin.headers
            return gate.headers if "/gate/" in path else ana.headers

        assert await fuzz_openapi(rail.client, headers_for, ids=ids, examples=5) == OPERATIONS
