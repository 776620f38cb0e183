"""GET /health probes every running service, in process or over HTTP."""

import redis.asyncio as aioredis
from asgi_lifespan import LifespanManager

from tests.service.gateway.support import (
    client_for,
    closed_port,
    fake_service,
    gateway_over,
    gateway_settings,
)


async def test_all_services_healthy_is_200(tmp_path):
    app = gateway_over(gateway_settings(tmp_path),
                       {"identity": fake_service("identity"), "booking": fake_service("booking")})
    async with client_for(app) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "api-gateway", "services": {
        "service-identity": "healthy", "service-booking": "healthy"}}


async def test_failing_crashing_and_unreachable_services_degrade_with_503(tmp_path):
    upstreams = {
        "identity": fake_service("identity"),
        "booking": fake_service("booking", health=None),
        "payment": fake_service("payment", health=503),
        "review": f"http://127.0.0.1:{closed_port()}",
    }
    app = gateway_over(gateway_settings(tmp_path, health_probe_timeout_seconds=2.0), upstreams)
    async with LifespanManager(app), client_for(app) as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "service": "api-gateway", "services": {
        "service-identity": "healthy", "service-booking": "unhealthy",
        "service-payment": "unhealthy", "service-review": "unhealthy"}}


async def test_readiness_is_503_when_redis_is_unreachable(tmp_path):
    redis = aioredis.from_url(f"redis://127.0.0.1:{closed_port()}/0")
    app = gateway_over(gateway_settings(tmp_path), {"booking": fake_service("booking")},
                       redis=redis)
    try:
        async with LifespanManager(app), client_for(app) as client:
            response = await client.get("/readiness")
    finally:
        await redis.aclose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["gateway"] == "ready"
    assert body["checks"]["redis"].startswith("error: ")
