"""Where a routed request goes: an in-process service app, or a service behind a URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

import aiohttp
import httpx
import structlog
import yarl
from multidict import CIMultiDict
from starlette.types import ASGIApp, Receive, Scope, Send

from kilat.gateway.headers import (
    downstream_response_headers,
    ensure_request_id,
    header,
    upstream_request_headers,
    websocket_handshake_headers,
    websocket_url,
)
from kilat.gateway.responses import send_error

# below the services' own idle keep-alive (75 s, see kilat.cli): the gateway drops an idle
# connection before the service would, never the other way round
PROXY_KEEPALIVE_SECONDS = 30.0

RESENDABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

log = structlog.get_logger(__name__)


class Upstream(Protocol):
    """One service as the gateway reaches it.

    ``forward`` MUST answer the ASGI request (HTTP or WebSocket) completely, with the envelope and a
    5xx status when the service cannot be reached. ``get`` MUST raise (httpx.HTTPError, OSError or
    TimeoutError) rather than hang past ``timeout`` seconds.
    """

    name: str

    async def forward(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    async def get(self, path: str, timeout: float) -> httpx.Response: ...


class EmbeddedUpstream:
    """The service's ASGI app in this process: the request is handed over as is, no HTTP hop."""

    def __init__(self, name: str, app: ASGIApp) -> None:
        self.name = name
        self.forward = app

    async def get(self, path: str, timeout: float) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.forward, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{self.name}") as client:
            async with asyncio.timeout(timeout):
                return await client.get(path)


class ClientDisconnected(Exception):
    pass


class RemoteUpstream:
    """A service in its own process: streaming HTTP reverse proxy and WebSocket tunnel."""

    def __init__(self, name: str, base_url: str, pool: ClientPool, *,
                 connect_timeout: float) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._pool = pool
        self._connect_timeout = connect_timeout

    async def get(self, path: str, timeout: float) -> httpx.Response:
        client = self._pool.client()
        try:
            return await client.get(f"{self.base_url}{path}", timeout=timeout)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            # a kept-alive connection the service had closed: a GET is safe to send again
            return await client.get(f"{self.base_url}{path}", timeout=timeout)

    async def forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers, request_id = ensure_request_id(list(scope["headers"]))
        scope = {**scope, "headers": headers}
        if scope["type"] == "websocket":
            await self._tunnel(scope, receive, send)
        else:
            await self._proxy(scope, receive, send, request_id)

    async def _tunnel(self, scope: Scope, receive: Receive, send: Send) -> None:
        from kilat.gateway.tunnel import tunnel  # the websocket client: distributed profile only

        headers = websocket_handshake_headers(scope["headers"], client_ip=_client_ip(scope),
                                              scheme=scope.get("scheme", "ws"))
        url = websocket_url(self.base_url, _raw_path(scope), scope.get("query_string", b""))
        await tunnel(scope, receive, send, url=url, service=self.name, headers=headers,
                     open_timeout=self._connect_timeout)

    async def _proxy(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"{self.base_url}{_raw_path(scope)}" + (f"?{query}" if query else "")
        headers = CIMultiDict(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in upstream_request_headers(scope["headers"],
                                                        client_ip=_client_ip(scope),
                                                        scheme=scope.get("scheme", "http")))
        try:
            body = await _request_body(scope, receive)
            response = await self._pool.session().request(
                scope["method"], yarl.URL(url, encoded=True), headers=headers, data=body,
                allow_redirects=False)
        except TimeoutError:
            log.warning("upstream timed out", service=self.name, path=scope["path"])
            await send_error(scope, receive, send, 504, "gateway timeout",
                             f"{self.name} did not answer in time")
            return
        except aiohttp.ClientError as exc:
            if _caused_by(exc, ClientDisconnected):
                return  # the caller went away while its body was being sent on
            log.warning("upstream unreachable", service=self.name, error=repr(exc))
            await send_error(scope, receive, send, 502, "bad gateway", f"{self.name} unavailable")
            return
        except ClientDisconnected:
            return
        try:
            await _stream_back(response, send, request_id)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("upstream response broken", service=self.name, error=repr(exc))
        finally:
            response.release()


async def _stream_back(response: aiohttp.ClientResponse, send: Send, request_id: str) -> None:
    await send({"type": "http.response.start", "status": response.status,
                "headers": downstream_response_headers(response.raw_headers, request_id)})
    async for chunk in response.content.iter_any():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    while exc is not None:
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


async def _request_body(scope: Scope, receive: Receive) -> bytes | AsyncIterator[bytes] | None:
    """The body to send on: streamed, except for an idempotent request, which aiohttp sends
    again when a kept-alive connection turns out to be closed (RFC 9112 §9.3.1). That needs
    the whole body at hand, and the gateway's body limit keeps it small."""
    if not _has_body(scope["headers"]):
        return None
    if scope["method"] in RESENDABLE_METHODS:
        return b"".join([chunk async for chunk in _body(receive)])
    return _body(receive)


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    length = header(headers, b"content-length")
    return (length is not None and length.strip() != b"0") or \
        header(headers, b"transfer-encoding") is not None


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


def _client_ip(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if raw else scope["path"]


class ClientPool:
    """The pooled HTTP clients for every upstream: opened on first use, closed at shutdown.

    Proxied requests go through an aiohttp session: httpx's connection pool checks every pooled
    connection on each request and response (``is_idle``), which cost the gateway ~15 ms of CPU
    per request with 64 in flight. Health probes keep the httpx client. Neither invents request
    headers (no Accept-Encoding or User-Agent the caller did not send), neither keeps cookies
    (a cookie jar would hand one caller's cookies to the next), and neither follows redirects or
    decompresses: the caller gets the service's bytes.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self._timeout_seconds = timeout_seconds
        self._timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0))
        self._client: httpx.AsyncClient | None = None
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=512, limit_per_host=0,
                                               keepalive_timeout=PROXY_KEEPALIVE_SECONDS),
                timeout=aiohttp.ClientTimeout(total=None,
                                              connect=min(self._timeout_seconds, 5.0),
                                              sock_read=self._timeout_seconds),
                cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False, trust_env=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"))
        return self._session

    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, trust_env=False,
                limits=httpx.Limits(max_connections=512, max_keepalive_connections=128,
                                    keepalive_expiry=PROXY_KEEPALIVE_SECONDS),
            )
            self._client.headers.clear()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._session is not None:
            await self._session.close()
            self._session = None
