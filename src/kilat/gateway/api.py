"""The gateway's own endpoints: aggregated health, readiness, metrics and the merged API docs."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kilat.gateway.health import GATEWAY_LABEL, aggregate_health

router = APIRouter(include_in_schema=False)


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    gateway = request.app.state.gateway
    status, body = await aggregate_health(gateway.upstreams,
                                          gateway.settings.health_probe_timeout_seconds)
    return JSONResponse(body, status_code=status)


@router.get("/readiness")
async def readiness(request: Request) -> JSONResponse:
    gateway = request.app.state.gateway
    checks = {"gateway": "ready" if gateway.started else "starting"}
    if gateway.redis is not None:
        checks["redis"] = await _ping(gateway.redis)
    ready = all(state == "ready" for state in checks.values())
    body = {"status": "ready" if ready else "not_ready", "service": GATEWAY_LABEL, "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _ping(redis) -> str:
    try:
        async with asyncio.timeout(2.0):
            await redis.ping()
        return "ready"
    except Exception as exc:  # any failure means "not ready", reported rather than raised
        return f"error: {type(exc).__name__}: {exc}"[:200]


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(await request.app.state.gateway.catalog.document())


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Kilat API")
