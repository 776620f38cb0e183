"""Stand-in services for gateway tests, and a real uvicorn server on a free local port."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response, StreamingResponse

from kilat.gateway import create_gateway
from kilat.platform.http import KernelMiddleware
from kilat.platform.runtime import Infrastructure
from kilat.platform.settings import Settings
from tests.support.harness import make_settings


def fake_service(name: str, *, health: int | None = 200) -> FastAPI:
    """A service that echoes what reached it; ``health=None`` makes its /health raise."""
    app = FastAPI(title=f"fake {name}")
    app.state.release = asyncio.Event()
    app.state.disconnects = []

    @app.get("/health")
    async def health_probe() -> JSONResponse:
        if health is None:
            raise RuntimeError("database is on fire")
        return JSONResponse({"status": "healthy", "service": f"service-{name}"}, status_code=health)

    @app.get("/api/v1/tracking/stream")
    async def stream() -> StreamingResponse:
        async def chunks():
            yield b"first;"
            await asyncio.wait_for(app.state.release.wait(), timeout=5)
            yield b"second;"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/api/v1/tracking/slow")
    async def slow() -> dict:
        await asyncio.sleep(0.6)
        return {"late": True}

    @app.get("/api/v1/bookings/cookie")
    async def cookie() -> Response:
        response = Response(status_code=204)
        response.set_cookie("session", "secret-of-one-caller")
        return response

    @app.get("/api/v1/bookings/gzipped")
    async def gzipped() -> Response:
        return Response(gzip.compress(b"compressed by the service"), media_type="text/plain",
                        headers={"Content-Encoding": "gzip"})

    @app.get("/api/v1/bookings/moved")
    async def moved() -> Response:
        return Response(status_code=302, headers={"Location": "/api/v1/bookings/elsewhere"})

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse(
            {"service": name, "method": request.method, "path": request.url.path,
             "query": request.url.query, "headers": dict(request.headers), "body": body.decode()},
            status_code=int(request.headers.get("x-want-status", 200)),
        )

    @app.websocket("/ws/tracking/{booking_id}")
    async def tracking_socket(websocket: WebSocket, booking_id: str) -> None:
        if websocket.query_params.get("token") != "good":
            await websocket.send_denial_response(JSONResponse(
                {"success": False, "error": "invalid or expired token", "detail": ""},
                status_code=401, headers={"WWW-Authenticate": "Bearer"}))
            return
        await websocket.accept()
        await websocket.send_json({"service": name, "booking_id": booking_id,
                                   "query": websocket.url.query})
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    app.state.disconnects.append(message.get("code"))
                    return
                if message.get("text") == "close":
                    await websocket.close(code=4001, reason="bye")
                    return
                if message.get("text") is not None:
                    await websocket.send_text(f"echo:{message['text']}")
                else:
                    await websocket.send_bytes(message["bytes"][::-1])
        except WebSocketDisconnect as exc:
            app.state.disconnects.append(exc.code)

    app.add_middleware(KernelMiddleware, service=name)
    return app


def gateway_settings(tmp_path: Path, **overrides) -> Settings:
    return make_settings(tmp_path, **overrides)


def bare_infra(settings: Settings, redis=None) -> Infrastructure:
    """The gateway only reads ``settings`` and ``redis`` from the infrastructure."""
    return Infrastructure(settings=settings, bus=None, verifier=None, redis=redis)


def gateway_over(settings: Settings, upstreams: dict, redis=None):
    return create_gateway(settings, upstreams, infra=bare_infra(settings, redis), lifecycle=None)


def client_for(app, *, client_ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def serving(app) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn (lifespan on) on a free 127.0.0.1 port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # the test runner owns the signals
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def away_from_window_edge(window_seconds: int = 60, margin: float = 2.0) -> None:
    """Fixed windows reset on the minute; start a counting test well inside one."""
    left = window_seconds - time.time() % window_seconds
    if left < margin:
        await asyncio.sleep(left + 0.05)
