"""Build the gateway: CORS, then the dispatcher, then FastAPI for the gateway's own endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from kilat.gateway.api import router
from kilat.gateway.cors import CorsGate
from kilat.gateway.dispatch import Dispatcher
from kilat.gateway.openapi import OpenAPICatalog
from kilat.gateway.upstreams import ClientPool, EmbeddedUpstream, RemoteUpstream, Upstream
from kilat.gateway.responses import send_error
from kilat.platform.http import (
    BodyLimit,
    KernelMiddleware,
    RequestGuard,
    error_response,
    install_error_handlers,
)
from kilat.platform.ratelimit import build_rate_limiter
from kilat.platform.runtime import Infrastructure
from kilat.platform.settings import Settings

Lifecycle = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass
class GatewayState:
    settings: Settings
    upstreams: dict[str, Upstream]
    catalog: OpenAPICatalog
    pool: ClientPool
    redis: Any = None
    started: bool = False


class GatewayApp(FastAPI):
    """FastAPI serves the gateway's own endpoints; every request meets ``edge`` (CORS, body
    limit, rate limit, dispatch) first, so routed traffic skips FastAPI's per-request machinery."""

    edge: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().__call__(scope, receive, send)
        else:
            await self.edge(scope, receive, send)

    async def serve_own(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def build_upstreams(upstreams: dict[str, ASGIApp | str], settings: Settings,
                    pool: ClientPool) -> dict[str, Upstream]:
    connect_timeout = min(settings.proxy_timeout_seconds, 5.0)
    return {
        name: RemoteUpstream(name, target, pool, connect_timeout=connect_timeout)
        if isinstance(target, str) else EmbeddedUpstream(name, target)
        for name, target in upstreams.items()
    }


def create_gateway(settings: Settings, upstreams: dict[str, ASGIApp | str], *,
                   infra: Infrastructure, lifecycle: Lifecycle | None = None) -> FastAPI:
    """The gateway over ``upstreams`` (in-process apps or base URLs), entering ``lifecycle``."""
    pool = ClientPool(settings.proxy_timeout_seconds)
    targets = build_upstreams(upstreams, settings, pool)
    catalog = OpenAPICatalog(targets, timeout=settings.health_probe_timeout_seconds)
    state = GatewayState(settings, targets, catalog, pool, redis=infra.redis)

    app = GatewayApp(title="Kilat API gateway", version="1.0.0",
                     lifespan=_lifespan(state, lifecycle),
                     openapi_url=None, docs_url=None, redoc_url=None)
    app.state.gateway = state
    install_error_handlers(app)
    app.add_exception_handler(404, _no_route)
    app.include_router(router)
    app.add_middleware(KernelMiddleware, service="gateway")
    limiter = build_rate_limiter(settings.rate_limit_per_minute, infra.redis)
    dispatcher = Dispatcher(app.serve_own, targets, limiter, settings.trusted_proxies)
    guarded = RequestGuard(dispatcher, BodyLimit.from_settings(settings), answer=send_error)
    app.edge = CorsGate(guarded, settings.cors_origins)
    return app


def _lifespan(state: GatewayState, lifecycle: Lifecycle | None):
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            async with lifecycle() if lifecycle is not None else nullcontext():
                state.started = True
                yield
        finally:
            state.started = False
            await state.pool.aclose()

    return lifespan


async def _no_route(request: Request, _exc: Exception) -> JSONResponse:
    return error_response(404, "not found", f"no route for {request.url.path}")
