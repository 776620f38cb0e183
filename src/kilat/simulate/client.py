"""A phone app's view of the platform: one HTTP client per user, tokens, envelopes, timings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from kilat.simulate.stats import Stats


class ApiError(Exception):
    """A call that did not succeed: an error envelope, or no answer at all (status 0)."""

    def __init__(self, method: str, path: str, status: int, error: str) -> None:
        super().__init__(f"{method} {path} -> {status} {error}")
        self.status = status
        self.error = error


@dataclass(frozen=True, slots=True)
class Target:
    """Where the platform is: a base URL, or an ASGI app served in this process."""

    url: str = "http://127.0.0.1:8080"
    app: Any = None
    address_offset: int = 0  # where this city's phone addresses start (two cities, two ranges)

    @property
    def is_loopback(self) -> bool:
        host = httpx.URL(self.url).host
        return self.app is not None or host in ("localhost", "::1") or host.startswith("127.")

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")


def loopback_address(index: int) -> str:
    """A distinct 127.x.y.z source address per simulated phone, as real phones have distinct IPs
    (the gateway rate-limits per client address)."""
    index += 2
    return f"127.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def make_http_client(target: Target, index: int | None, timeout: float = 30.0) -> httpx.AsyncClient:
    address = (loopback_address(index + target.address_offset)
               if index is not None and target.is_loopback else None)
    if target.app is not None:
        transport = httpx.ASGITransport(app=target.app, client=(address or "127.0.0.1", 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://kilat", timeout=timeout)
    transport = httpx.AsyncHTTPTransport(local_address=address, retries=0,
                                         limits=httpx.Limits(max_connections=4))
    return httpx.AsyncClient(transport=transport, base_url=target.url, timeout=timeout)


class UserClient:
    """One signed-in user. Every call is timed into ``stats`` under its route name."""

    def __init__(self, http: httpx.AsyncClient, stats: Stats) -> None:
        self.http = http
        self.stats = stats
        self.access_token: str | None = None
        self.refresh_token: str | None = None
        self.user_id: str | None = None

    async def call(self, name: str, method: str, path: str, body: Any = None,
                   *, expected: tuple[int, ...] = (), form: dict | None = None) -> Any:
        """The ``data`` of a successful envelope. A status in ``expected`` raises ApiError without
        counting as an error (the caller knows it may happen, e.g. an event not arrived yet).
        ``form`` sends a multipart form instead of a JSON body."""
        response = await self._send(name, method, path, body, form)
        if response.status_code == 401 and self.refresh_token and name != "refresh":
            await self.refresh()
            response = await self._send(name, method, path, body, form)
        if response.is_success:
            return response.json().get("data") if response.content else None
        error = _error_text(response)
        if response.status_code not in expected:
            self.stats.error(name, response.status_code, error)
        raise ApiError(method, path, response.status_code, error)

    async def _send(self, name: str, method: str, path: str, body: Any,
                    form: dict | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else None
        started = time.perf_counter()
        try:
            if form is not None:  # multipart, as a phone uploads a form
                files = {key: (None, str(value)) for key, value in form.items()}
                response = await self.http.request(method, path, files=files, headers=headers)
            else:
                response = await self.http.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            self.stats.error(name, 0, type(exc).__name__)
            raise ApiError(method, path, 0, type(exc).__name__) from exc
        self.stats.request(name, time.perf_counter() - started)
        return response

    async def register(self, email: str, password: str, full_name: str, role: str,
                       phone: str | None = None) -> None:
        body = {"email": email, "password": password, "full_name": full_name, "role": role,
                "phone": phone}
        self._signed_in(await self.call("register", "POST", "/api/v1/auth/register", body))

    async def login(self, email: str, password: str) -> None:
        body = {"email": email, "password": password}
        self._signed_in(await self.call("login", "POST", "/api/v1/auth/login", body))

    async def refresh(self) -> None:
        body = {"refresh_token": self.refresh_token}
        self.access_token = None
        self._signed_in(await self.call("refresh", "POST", "/api/v1/auth/refresh", body))

    def _signed_in(self, data: dict) -> None:
        self.access_token = data["access_token"]
        self.refresh_token = data["refresh_token"]
        self.user_id = data["user"]["id"]

    async def aclose(self) -> None:
        await self.http.aclose()


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))[:200]
    except ValueError:
        return response.text[:200]
