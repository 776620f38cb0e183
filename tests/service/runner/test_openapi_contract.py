"""Schemathesis over the runner API: never a 5xx, every response matches the OpenAPI."""

from tests.service.runner.support import KLCC
from tests.support.contract import fuzz_openapi

OPERATIONS = 23  # 21 of the runner service, 2 of the kernel's dead-letter admin


async def test_every_operation_keeps_its_openapi_contract(app):
    runner_headers, runner = await app.online_runner(KLCC, {"size": "large", "pet_types": ["dog"],
                                                            "max_weight_kg": 30})
    crate_id = (await app.me(runner_headers))["crate_specs"][0]["id"]
    shop_headers = app.headers("shop")
    shop = (await app.client.post("/api/v1/petshops", headers=shop_headers, json={
        "name": "Fuzz Shop", "address": "1 Jalan", "latitude": 3.15, "longitude": 101.7,
        "category": "vet"})).json()["data"]
    owner_headers, admin_headers = app.headers("owner"), app.headers("admin")
    ids = {"runner_id": runner["id"], "crate_id": crate_id, "shop_id": shop["id"]}

    def headers_for(method: str, path: str) -> dict:
        if path.startswith("/api/v1/admin"):
            return admin_headers
        if path.startswith("/api/v1/runners") and (path.startswith("/api/v1/runners/me")
                                                   or method == "POST"):
            return runner_headers
        if path.startswith("/api/v1/petshops") and (method != "GET" or path.endswith("/mine")):
            return shop_headers
        return owner_headers

    assert await fuzz_openapi(app.client, headers_for, ids=ids) == OPERATIONS
