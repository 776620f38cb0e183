"""WebSockets through the gateway: handed over in process, or tunnelled to a service's port."""

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.service.gateway.support import (
    closed_port,
    fake_service,
    gateway_over,
    gateway_settings,
    serving,
)


def ws(url: str, path: str) -> str:
    return url.replace("http://", "ws://") + path


@pytest.fixture
async def tracking():
    app = fake_service("tracking")
    async with serving(app) as url:
        yield app, url


@pytest.fixture(params=["distributed", "embedded"])
async def gateway(request, tmp_path, tracking):
    app, url = tracking
    target = url if request.param == "distributed" else app
    gateway_app = gateway_over(gateway_settings(tmp_path), {"tracking": target})
    async with serving(gateway_app) as gateway_url:
        yield gateway_url


async def test_messages_flow_both_ways_with_path_and_query_kept(gateway):
    async with connect(ws(gateway, "/ws/tracking/b-1?token=good&since=5"), proxy=None) as socket:
        hello = await asyncio.wait_for(socket.recv(), timeout=3)
        assert hello == '{"service":"tracking","booking_id":"b-1","query":"token=good&since=5"}'
        await socket.send("ping")
        assert await asyncio.wait_for(socket.recv(), timeout=3) == "echo:ping"
        await socket.send(b"\x01\x02\x03")
        assert await asyncio.wait_for(socket.recv(), timeout=3) == b"\x03\x02\x01"


async def test_service_closing_closes_the_client_with_its_code(gateway):
    async with connect(ws(gateway, "/ws/tracking/b-2?token=good"), proxy=None) as socket:
        await socket.recv()
        await socket.send("close")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(socket.recv(), timeout=3)
    assert (socket.close_code, socket.close_reason) == (4001, "bye")


async def test_client_closing_closes_the_service_side(gateway, tracking):
    app, _ = tracking
    app.state.disconnects.clear()
    async with connect(ws(gateway, "/ws/tracking/b-3?token=good"), proxy=None) as socket:
        await socket.recv()
        await socket.close(code=1000)
    for _ in range(100):
        if app.state.disconnects:
            break
        await asyncio.sleep(0.02)
    assert app.state.disconnects == [1000]


async def test_refused_handshake_reaches_the_client_with_the_service_status(gateway):
    with pytest.raises(InvalidStatus) as refused:
        await connect(ws(gateway, "/ws/tracking/b-4?token=bad"), proxy=None)
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["Content-Type"] == "application/json"
    assert refused.value.response.headers["WWW-Authenticate"] == "Bearer"
    assert b"invalid or expired token" in refused.value.response.body


async def test_unreachable_tracking_service_refuses_with_502(tmp_path):
    app = gateway_over(gateway_settings(tmp_path),
                       {"tracking": f"http://127.0.0.1:{closed_port()}"})
    async with serving(app) as url:
        with pytest.raises(InvalidStatus) as refused:
            await connect(ws(url, "/ws/tracking/b-5?token=good"), proxy=None)
    assert refused.value.response.status_code == 502
    assert b"tracking unavailable" in refused.value.response.body


async def test_rate_limited_websocket_is_refused_with_429(tmp_path, tracking):
    app, _ = tracking
    gateway_app = gateway_over(gateway_settings(tmp_path, rate_limit_per_minute=1),
                               {"tracking": app})
    async with serving(gateway_app) as url:
        async with connect(ws(url, "/ws/tracking/b-6?token=good"), proxy=None) as socket:
            await socket.recv()
        with pytest.raises(InvalidStatus) as refused:
            await connect(ws(url, "/ws/tracking/b-6?token=good"), proxy=None)
    assert refused.value.response.status_code == 429
