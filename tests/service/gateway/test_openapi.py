"""GET /openapi.json merges the services' documents; /docs renders it."""

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from kilat.platform.schemas import Envelope, error_responses, ok
from tests.service.gateway.support import (
    client_for,
    closed_port,
    gateway_over,
    gateway_settings,
    serving,
)


def booking_app() -> FastAPI:
    class Address(BaseModel):
        street: str

    app = FastAPI()

    @app.get("/api/v1/bookings/{booking_id}/address", response_model=Envelope[Address],
             responses=error_responses(404))
    async def address(booking_id: str) -> dict:
        return ok({"street": "Jalan 1"})

    return app


def runner_app() -> FastAPI:
    class Address(BaseModel):
        latitude: float
        longitude: float

    app = FastAPI()

    @app.get("/api/v1/runners/me/address", response_model=Envelope[Address],
             responses=error_responses(404))
    async def address() -> dict:
        return ok({"latitude": 3.1, "longitude": 101.6})

    return app


def schema_of(doc: dict, path: str) -> dict:
    content = doc["paths"][path]["get"]["responses"]["200"]["content"]
    return content["application/json"]["schema"]


async def test_merged_document_keeps_both_services_and_prefixes_clashing_schemas(tmp_path):
    app = gateway_over(gateway_settings(tmp_path),
                       {"booking": booking_app(), "runner": runner_app()})
    async with client_for(app) as client:
        doc = (await client.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    assert set(doc["paths"]) == {"/api/v1/bookings/{booking_id}/address",
                                 "/api/v1/runners/me/address"}
    assert "street" in schemas["Address"]["properties"]
    assert "latitude" in schemas["runner_Address"]["properties"]
    assert schemas["ErrorBody"]["properties"]["success"]
    booking_envelope = schema_of(doc, "/api/v1/bookings/{booking_id}/address")["$ref"]
    runner_envelope = schema_of(doc, "/api/v1/runners/me/address")["$ref"]
    assert booking_envelope != runner_envelope
    runner_data = schemas[runner_envelope.rsplit("/", 1)[1]]["properties"]["data"]
    assert runner_data == {"$ref": "#/components/schemas/runner_Address"}


async def test_docs_page_is_swagger_ui_for_the_merged_document(tmp_path):
    app = gateway_over(gateway_settings(tmp_path), {"booking": booking_app()})
    async with client_for(app) as client:
        response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text and "/openapi.json" in response.text


async def test_distributed_documents_are_cached_and_a_down_service_is_left_out(tmp_path):
    async with serving(booking_app()) as booking_url:
        app = gateway_over(gateway_settings(tmp_path, health_probe_timeout_seconds=1.0), {
            "booking": booking_url, "runner": f"http://127.0.0.1:{closed_port()}"})
        async with serving(app) as gateway_url, httpx.AsyncClient(base_url=gateway_url) as client:
            first = (await client.get("/openapi.json")).json()
    assert list(first["paths"]) == ["/api/v1/bookings/{booking_id}/address"]
    async with serving(app) as gateway_url, httpx.AsyncClient(base_url=gateway_url) as client:
        cached = (await client.get("/openapi.json")).json()
    assert cached["paths"] == first["paths"]
