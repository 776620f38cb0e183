"""The gateway's hot path, as one pure ASGI layer: rate limit, route, hand over."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from kilat.gateway.headers import Networks, client_address, header
from kilat.gateway.responses import send_error
from kilat.gateway.routes import is_exempt, resolve
from kilat.gateway.upstreams import Upstream
from kilat.platform.ratelimit import RateLimiter


class Dispatcher:
    """Routed paths go to their service; the gateway's own paths and unknown ones go to ``app``.

    Gateway-generated answers (429, 503, unknown path) carry the kernel's request id and security
    headers; answers from a service pass through untouched, since the service adds its own.
    """

    def __init__(self, app: ASGIApp, upstreams: dict[str, Upstream],
                 limiter: RateLimiter | None, trusted_proxies: Networks = ()) -> None:
        self.app = app
        self.upstreams = upstreams
        self.limiter = limiter
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.limiter is not None and not await self._admit(scope, receive, send):
            return
        service = resolve(scope["path"])
        if service is None:
            await self.app(scope, receive, send)
            return
        upstream = self.upstreams.get(service)
        if upstream is None:
            await send_error(scope, receive, send, 503, "service unavailable",
                             f"{service} is not running")
            return
        await upstream.forward(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> bool:
        peer = scope.get("client")
        client = client_address(peer[0] if peer else None,
                                header(scope["headers"], b"x-forwarded-for"), self.trusted_proxies)
        allowed, retry_after = await self.limiter.hit(client or "unknown")
        if not allowed:
            await send_error(
                scope, receive, send, 429, "rate limit exceeded",
                f"at most {self.limiter.limit} requests per minute; retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
        return allowed
