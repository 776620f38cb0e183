"""WebSocket tunnel: accept the client, open the same path on the upstream, pump both ways."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from kilat.gateway.headers import strip_hop_by_hop
from kilat.gateway.responses import deny_websocket, send_error

log = structlog.get_logger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_UNSENDABLE = {1005: 1000, 1006: 1011, 1015: 1011}
_RECOMPUTED = frozenset({b"content-length", b"date", b"server"})


def sendable_close_code(code: int | None) -> int:
    """Codes 1005/1006/1015 only describe a closure; they may not be put on the wire."""
    if code is None:
        return 1000
    return _UNSENDABLE.get(code, code)


async def tunnel(scope: Scope, receive: Receive, send: Send, *, url: str, service: str,
                 headers: list[tuple[str, str]], open_timeout: float) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    try:
        upstream = await connect(
            url, additional_headers=headers, subprotocols=scope.get("subprotocols") or None,
            open_timeout=open_timeout, proxy=None, user_agent_header=None, compression=None,
            max_size=MAX_MESSAGE_BYTES,
        )
    except InvalidStatus as exc:
        await _relay_refusal(scope, receive, send, exc)
        return
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        log.warning("websocket upstream unavailable", service=service, error=str(exc))
        await send_error(scope, receive, send, 502, "bad gateway", f"{service} unavailable")
        return
    async with upstream:
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
        await _pump(upstream, receive, send)


async def _relay_refusal(scope: Scope, receive: Receive, send: Send, exc: InvalidStatus) -> None:
    """The service's refusal (status, body, headers such as WWW-Authenticate) reaches the client."""
    refusal = exc.response
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in refusal.headers.raw_items()]
    headers = {k.decode(): v.decode("latin-1") for k, v in strip_hop_by_hop(raw)
               if k not in _RECOMPUTED}
    response = Response(bytes(refusal.body or b""), status_code=refusal.status_code,
                        headers=headers)
    await deny_websocket(scope, receive, send, response)


async def _pump(upstream: ClientConnection, receive: Receive, send: Send) -> None:
    tasks = {asyncio.create_task(_client_to_upstream(receive, upstream)),
             asyncio.create_task(_upstream_to_client(upstream, send))}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("websocket tunnel failed", error=repr(task.exception()))


async def _client_to_upstream(receive: Receive, upstream: ClientConnection) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            code = sendable_close_code(message.get("code"))
            await upstream.close(code, message.get("reason") or "")
            return
        if message["type"] == "websocket.receive":
            text = message.get("text")
            try:
                await upstream.send(text if text is not None else message.get("bytes") or b"")
            except ConnectionClosed:
                return


async def _upstream_to_client(upstream: ClientConnection, send: Send) -> None:
    # OSError: the client left first (the server's ClientDisconnected); the tunnel just ends
    with contextlib.suppress(OSError):
        with contextlib.suppress(ConnectionClosed):
            async for data in upstream:
                key = "text" if isinstance(data, str) else "bytes"
                await send({"type": "websocket.send", key: data})
        await send({"type": "websocket.close", "code": sendable_close_code(upstream.close_code),
                    "reason": upstream.close_reason or ""})
