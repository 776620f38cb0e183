"""Distributed profile: a keep-alive connection the service drops is retried for idempotent
requests, so one broken connection never turns an unrelated request into a 502."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.service.gateway.support import gateway_over, gateway_settings, serving


class DroppingService:
    """Answers the first request of each connection and keeps it alive, then resets the
    connection when a second request arrives on it, as a server that closes a connection
    right after a response without saying ``Connection: close``."""

    def __init__(self) -> None:
        self.answered: list[tuple[str, bytes]] = []
        self.dropped = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, body = await _read_request(reader)
            self.answered.append((method, body))
            payload = json.dumps({"method": method, "body": body.decode()}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")
            self.dropped += 1
            writer.transport.abort()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return head.split(" ", 1)[0], await reader.readexactly(length)


@asynccontextmanager
async def gateway_to_dropping_service(tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient,
                                                                        DroppingService]]:
    service = DroppingService()
    server = await asyncio.start_server(service.handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    app = gateway_over(gateway_settings(tmp_path), {"booking": url})
    try:
        async with serving(app) as gateway_url, httpx.AsyncClient(base_url=gateway_url) as client:
            yield client, service
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_a_dropped_keep_alive_connection_is_retried_for_requests_without_body(
        tmp_path, method):
    async with gateway_to_dropping_service(tmp_path) as (gateway, service):
        first = await gateway.request(method, "/api/v1/bookings/1")
        second = await gateway.request(method, "/api/v1/bookings/2")
    assert (first.status_code, second.status_code) == (200, 200)
    assert service.dropped >= 1


async def test_a_dropped_keep_alive_connection_is_retried_for_a_put_with_its_body(tmp_path):
    async with gateway_to_dropping_service(tmp_path) as (gateway, service):
        first = await gateway.put("/api/v1/bookings/1", json={"n": 1})
        second = await gateway.put("/api/v1/bookings/2", json={"n": 2})
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"method": "PUT", "body": '{"n":2}'}
    assert service.dropped >= 1


async def test_a_post_is_not_sent_twice(tmp_path):
    async with gateway_to_dropping_service(tmp_path) as (gateway, service):
        first = await gateway.post("/api/v1/bookings", json={"n": 1})
        second = await gateway.post("/api/v1/bookings", json={"n": 2})
    assert first.status_code == 200
    assert second.status_code == 502
    assert second.json() == {"success": False, "error": "bad gateway",
                             "detail": "booking unavailable"}
    assert [method for method, _ in service.answered] == ["POST"]


async def test_a_health_probe_on_a_dropped_connection_is_sent_again(tmp_path):
    async with gateway_to_dropping_service(tmp_path) as (gateway, service):
        probes = [(await gateway.get("/health")).json()["services"] for _ in range(3)]
    assert probes == [{"service-booking": "healthy"}] * 3
    assert service.dropped >= 1
