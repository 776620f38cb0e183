"""CORS for the browser clients, kept off the hot path of requests that carry no Origin."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilat.gateway.headers import header

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
HEADERS = ["Origin", "Content-Type", "Accept", "Authorization", "X-Request-ID", "Idempotency-Key"]
EXPOSED = ["Content-Length", "X-Request-ID"]
MAX_AGE = 12 * 3600


class CorsGate:
    """Starlette's CORS for requests with an Origin header (browsers always send one across
    origins); the others only get ``Vary: Origin``, which is all CORS would add to them."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_credentials=True,
                                   allow_methods=METHODS, allow_headers=HEADERS,
                                   expose_headers=EXPOSED, max_age=MAX_AGE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif header(scope["headers"], b"origin") is not None:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, _vary_on_origin(send))


def _vary_on_origin(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), (b"vary", b"Origin")]
        await send(message)

    return wrapped
