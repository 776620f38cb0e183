"""HTTP kernel: envelope errors, request guard (body limits, last-resort 500), request id,
security headers, metrics, health endpoints."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilat.platform.errors import KilatError
from kilat.platform.schemas import ErrorBody

if TYPE_CHECKING:
    from kilat.platform.runtime import ServiceRuntime
    from kilat.platform.settings import Settings

log = structlog.get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"x-xss-protection", b"1; mode=block"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]

REQUESTS = Counter(
    "kilat_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "kilat_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def error_response(status: int, error: str, detail: str = "", headers=None) -> JSONResponse:
    return JSONResponse(
        {"success": False, "error": error, "detail": detail}, status_code=status, headers=headers
    )


ErrorSender = Callable[[Scope, Receive, Send, int, str, str, dict[str, str] | None],
                       Awaitable[None]]


async def send_envelope(scope: Scope, receive: Receive, send: Send, status: int, error: str,
                        detail: str = "", headers: dict[str, str] | None = None) -> None:
    await error_response(status, error, detail, headers)(scope, receive, send)


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The most bytes a request body may hold: ``upload`` for multipart forms, else ``default``."""

    default: int
    upload: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimit:
        return cls(settings.max_body_bytes, settings.max_upload_bytes)

    def of(self, headers: list[tuple[bytes, bytes]]) -> int:
        content_type = _raw_header(headers, b"content-type") or b""
        return self.upload if content_type[:19].lower() == b"multipart/form-data" else self.default


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a body passes its limit; the guard answers 413."""


class RequestGuard:
    """A pure ASGI layer that keeps a bad request from costing memory or the connection.

    A body over its ``BodyLimit`` is refused with 413 before it is read: at once when its
    Content-Length says so, else as soon as the bytes streamed in pass the limit (reading stops
    there). An unhandled exception answers 500. Both answers carry the envelope (through
    ``answer``) and the exception never reaches the server, which would drop the keep-alive
    connection without a ``Connection: close`` (uvicorn closes it after an ASGI exception).
    """

    def __init__(self, app: ASGIApp, limit: BodyLimit | None = None,
                 answer: ErrorSender = send_envelope) -> None:
        self.app = app
        self.limit = limit
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit.of(scope["headers"]) if self.limit is not None else None
        if limit is not None and _declared_length(scope["headers"]) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        body = _CountedBody(receive, limit) if limit is not None else None
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if body is not None and body.over and not started:
                return  # the app's own answer to its cut-off body: the 413 replaces it
            started = True
            await send(message)

        try:
            await self.app(scope, body or receive, guarded_send)
        except Exception as exc:
            if started:
                raise  # half a response: only closing the connection tells the client
            if body is None or not body.over:
                log.exception("unhandled error", error=str(exc))
                await self.answer(scope, receive, send, 500, "internal server error", "", None)
                return
        if body is not None and body.over and not started:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # The server discards the rest of a body nobody reads and keeps the connection: closing
        # it with bytes unread would reset it, and the client could lose the 413. A client
        # waiting for "100 Continue" never sends its body, so that connection must close.
        expecting = _raw_header(scope["headers"], b"expect") == b"100-continue"
        headers = {"Connection": "close"} if expecting else None
        await self.answer(scope, receive, send, 413, "request body too large",
                          f"the limit is {limit} bytes", headers)


class _CountedBody:
    """``receive`` that counts body bytes and raises ``BodyTooLarge`` once past ``limit``."""

    __slots__ = ("limit", "over", "read", "receive")

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.read = 0
        self.over = False

    async def __call__(self) -> Message:
        if self.over:
            raise BodyTooLarge
        message = await self.receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > self.limit:
                self.over = True
                raise BodyTooLarge
        return message


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int:
    length = _raw_header(headers, b"content-length")
    return int(length) if length is not None and length.isdigit() else 0


def _raw_header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


class KernelMiddleware:
    """Request id, security headers, request metrics, body limit and the last-resort 500 as
    one pure ASGI layer."""

    def __init__(self, app: ASGIApp, service: str, body_limit: BodyLimit | None = None) -> None:
        self.app = RequestGuard(app, body_limit)
        self.service = service
        self._metrics: dict[tuple[str, str, int], tuple] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
            route = getattr(scope.get("route"), "path", "unmatched")
            count, latency = self._metrics_for(scope["method"], route, status)
            count.inc()
            latency.observe(time.perf_counter() - started)

    def _metrics_for(self, method: str, route: str, status: int) -> tuple:
        """The labelled metric children, looked up once per (method, route, status)."""
        key = (method, route, status)
        children = self._metrics.get(key)
        if children is None:
            children = (REQUESTS.labels(self.service, method, route, str(status)),
                        LATENCY.labels(self.service, route))
            self._metrics[key] = children
        return children


def _header(scope: Scope, name: bytes) -> str | None:
    value = _raw_header(scope.get("headers", []), name)
    return value.decode("latin-1") if value is not None else None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KilatError)
    async def _domain(_request: Request, exc: KilatError) -> JSONResponse:
        headers = {"Retry-After": exc.detail} if exc.status_code == 429 and exc.detail else None
        if exc.status_code == 503:
            headers = {"Retry-After": str(exc.retry_after)}
        return error_response(exc.status_code, exc.error, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(exc), "")

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, _exc: StaleDataError) -> JSONResponse:
        return error_response(409, "resource was modified concurrently", "retry with fresh data")

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        return error_response(503, "database busy", "no database connection free; retry",
                              {"Retry-After": "1"})

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error", error=str(exc.orig))
        return error_response(409, "conflict with existing data", "")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and error == "Not Found":
            error = "not found"
        return error_response(exc.status_code, error, "", getattr(exc, "headers", None))


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else err.get("msg", "invalid"))
    return "; ".join(parts) or "invalid request"


def runtime_of(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    database = request.app.state.runtime.database
    async with database.session(write=request.method not in SAFE_METHODS) as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session, scope="function")]


def install_probes(app: FastAPI, service: str) -> None:
    label = f"service-{service}"

    @app.get("/health", include_in_schema=False)
    async def health() -> dict:
        return {"status": "healthy", "service": label}

    @app.get("/readiness", include_in_schema=False)
    async def readiness(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.readiness_checks()
        ready = all(v == "ready" for v in checks.values())
        body = {"status": "ready" if ready else "not_ready", "service": label, "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def install_openapi_fixups(app: FastAPI) -> None:
    """Document validation failures as what they are here: 400 in the Kilat envelope.

    FastAPI lists a 422 ``HTTPValidationError`` on every route with inputs, but the kernel answers
    those with 400 ``ErrorBody``; a client generated from the spec must see the truth.
    """
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorBody", ErrorBody.model_json_schema())
        error_ref = {"$ref": "#/components/schemas/ErrorBody"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                generated = responses.get("422", {})
                if "HTTPValidationError" not in str(generated):
                    continue
                del responses["422"]
                responses.setdefault("400", {
                    "description": "Bad request: the input failed validation",
                    "content": {"application/json": {"schema": error_ref}},
                })
        if "HTTPValidationError" not in str(schema.get("paths")):
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
