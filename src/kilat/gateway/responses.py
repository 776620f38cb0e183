"""Responses the gateway itself produces: the envelope plus the kernel's request id and headers."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from kilat.platform.http import KernelMiddleware, error_response


async def send_error(scope: Scope, receive: Receive, send: Send, status: int, error: str,
                     detail: str = "", headers: dict[str, str] | None = None) -> None:
    response = error_response(status, error, detail, headers)
    if scope["type"] == "websocket":
        await deny_websocket(scope, receive, send, response)
        return
    await KernelMiddleware(response, service="gateway")(scope, receive, send)


async def deny_websocket(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    """Refuse a WebSocket handshake with ``response``; without the ASGI denial extension the
    client is accepted and closed at once with code 4000 + status, so it still learns why."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await response(scope, receive, send)
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": close_code_for(response.status_code)})


def close_code_for(status: int) -> int:
    return 4000 + status if 400 <= status < 600 else 1011
