"""Embedded dispatch: every route reaches its in-process service, the rest is the gateway's."""

from contextlib import asynccontextmanager

import pytest
from asgi_lifespan import LifespanManager

from kilat.gateway import create_gateway
from kilat.gateway.routes import ROUTES
from kilat.services import SERVICES
from tests.service.gateway.support import (
    bare_infra,
    client_for,
    fake_service,
    gateway_over,
    gateway_settings,
)


@pytest.fixture
async def gateway(tmp_path):
    app = gateway_over(gateway_settings(tmp_path),
                       {name: fake_service(name) for name in SERVICES})
    async with LifespanManager(app), client_for(app) as client:
        yield client


@pytest.mark.parametrize(("prefix", "service"), ROUTES.items())
async def test_every_route_reaches_its_service_with_the_path_unchanged(gateway, prefix, service):
    for path in (prefix, f"{prefix}/123/sub"):
        response = await gateway.get(path, params={"q": "1"})
        assert response.status_code == 200
        assert response.json()["service"] == service
        assert response.json()["path"] == path
        assert response.json()["query"] == "q=1"


async def test_method_body_and_status_pass_through(gateway):
    response = await gateway.post("/api/v1/bookings", json={"pet": "cat"},
                                  headers={"X-Want-Status": "201"})
    assert response.status_code == 201
    assert response.json()["method"] == "POST"
    assert response.json()["body"] == '{"pet":"cat"}'


async def test_forwarded_response_has_request_id_and_security_headers_once(gateway):
    response = await gateway.get("/api/v1/pets", headers={"X-Request-ID": "rid-1"})
    assert response.headers.get_list("x-request-id") == ["rid-1"]
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers.get_list("strict-transport-security") == [
        "max-age=31536000; includeSubDomains"]


async def test_unknown_path_is_404_envelope_from_the_gateway(gateway):
    response = await gateway.get("/api/v1/bookingsX", headers={"X-Request-ID": "rid-2"})
    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "not found",
                               "detail": "no route for /api/v1/bookingsX"}
    assert response.headers.get_list("x-request-id") == ["rid-2"]
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_known_route_of_a_service_not_running_is_503(tmp_path):
    app = gateway_over(gateway_settings(tmp_path), {"identity": fake_service("identity")})
    async with client_for(app) as client:
        response = await client.get("/api/v1/reviews/runner/1")
    assert response.status_code == 503
    assert response.json() == {"success": False, "error": "service unavailable",
                               "detail": "review is not running"}
    assert response.headers["x-frame-options"] == "DENY"


async def test_readiness_waits_for_the_lifecycle_to_start_the_services(tmp_path):
    entered = []

    @asynccontextmanager
    async def lifecycle():
        entered.append("up")
        yield
        entered.append("down")

    settings = gateway_settings(tmp_path)
    app = create_gateway(settings, {"booking": fake_service("booking")},
                         infra=bare_infra(settings), lifecycle=lifecycle)
    async with client_for(app) as client:
        assert (await client.get("/readiness")).status_code == 503
        async with LifespanManager(app):
            response = await client.get("/readiness")
            assert response.status_code == 200
            assert response.json() == {"status": "ready", "service": "api-gateway",
                                       "checks": {"gateway": "ready"}}
    assert entered == ["up", "down"]


async def test_metrics_are_prometheus_text(gateway):
    await gateway.get("/nowhere")
    response = await gateway.get("/metrics")
    assert response.status_code == 200
    assert 'kilat_http_requests_total{method="GET",route="unmatched",service="gateway"' in \
        response.text
