"""Schemathesis over the parcels API: never a 5xx, every response matches the OpenAPI."""

from tests.service.parcels.support import claimed, parcels_service
from tests.support.contract import fuzz_openapi
from tests.support.people import person

OPERATIONS = 53 + 2  # the parcels service's, and the kernel's two dead-letter admin routes
COURIER_PATHS = ("/api/v1/parcels/couriers", "/api/v1/parcels/jobs", "/api/v1/parcels/shipments")


async def test_every_operation_keeps_its_openapi_contract(infra):
    async with parcels_service(infra) as (_runtime, client):
        customer, admin = person(infra, "customer"), person(infra, "admin")
        order, courier = await claimed(client, infra, customer)
        hook = (await client.post("/api/v1/parcels/webhooks", headers=customer.headers,
                                  json={"url": "http://127.0.0.1:9/hook"})).json()["data"]
        ids = {"order_id": order["id"], "shipment_id": order["shipment"]["id"],
               "tracking_number": order["shipment"]["tracking_number"], "webhook_id": hook["id"],
               "customer_id": customer.id}

        def headers_for(_method: str, path: str) -> dict:
            if "/admin" in path:
                return admin.headers
            return courier.headers if path.startswith(COURIER_PATHS) else customer.headers

        assert await fuzz_openapi(client, headers_for, ids=ids, examples=5) == OPERATIONS
