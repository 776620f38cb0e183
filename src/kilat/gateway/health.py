"""Aggregated health: every running service's /health, probed concurrently."""

from __future__ import annotations

import asyncio

import httpx

from kilat.gateway.upstreams import Upstream

GATEWAY_LABEL = "api-gateway"


async def probe(upstream: Upstream, timeout: float) -> str:
    try:
        response = await upstream.get("/health", timeout)
    except (httpx.HTTPError, OSError, TimeoutError):
        return "unhealthy"
    return "healthy" if response.status_code == 200 else "unhealthy"


def summarise(states: dict[str, str]) -> tuple[int, dict]:
    """HTTP status and body: 200 ``healthy`` when every service is, else 503 ``degraded``."""
    healthy = all(state == "healthy" for state in states.values())
    body = {
        "status": "healthy" if healthy else "degraded",
        "service": GATEWAY_LABEL,
        "services": {f"service-{name}": state for name, state in states.items()},
    }
    return (200 if healthy else 503), body


async def aggregate_health(upstreams: dict[str, Upstream], timeout: float) -> tuple[int, dict]:
    names = list(upstreams)
    states = await asyncio.gather(*(probe(upstreams[name], timeout) for name in names))
    return summarise(dict(zip(names, states, strict=True)))
