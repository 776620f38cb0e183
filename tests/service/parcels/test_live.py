"""Live tracking: sessions authorise the WebSocket, frames reach that order's room only,
expired or revoked sessions are refused and disconnected; telemetry is stored in batches."""

import asyncio
import json
import uuid

import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from kilat.platform.runtime import create_service_app
from kilat.services.parcels.models import LocationEvent
from tests.service.parcels.support import claimed, parcels_service, serve
from tests.support.harness import wait_for
from tests.support.people import person


async def open_session(client, customer, order) -> dict:
    response = await client.post(f"/api/v1/parcels/orders/{order['id']}/tracking-sessions",
                                 headers=customer.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def frame(ws, kind: str, timeout: float = 3.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        data = json.loads(await asyncio.wait_for(ws.recv(), max(left, 0.01)))
        if data["type"] == kind:
            return data


async def fix(client, courier, lat, lng, **extra):
    return await client.post("/api/v1/parcels/couriers/me/location", headers=courier.headers,
                             json={"latitude": lat, "longitude": lng} | extra)


async def refused_with(url: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    return refused.value.response.status_code


async def test_the_customer_sees_the_couriers_fixes_and_status_changes_in_its_room_only(infra):
    async with parcels_service(infra) as (runtime, client):
        customer, neighbour = person(infra, "customer"), person(infra, "customer")
        order, courier = await claimed(client, infra, customer)
        other, _ = await claimed(client, infra, neighbour)
        mine, theirs = await open_session(client, customer, order), await open_session(client, neighbour, other)
        number = order["shipment"]["tracking_number"]
        assert mine["websocket_path"] == f"/ws/parcels/{number}?session={mine['session_token']}"
        async with serve(create_service_app(runtime)) as port:
            base = f"ws://127.0.0.1:{port}"
            async with connect(base + mine["websocket_path"]) as ws, \
                    connect(base + theirs["websocket_path"]) as their_ws:
                assert (await frame(ws, "snapshot"))["status"] == "assigned"
                await frame(their_ws, "snapshot")
                sent = await fix(client, courier, 3.15, 101.70, accuracy_m=5)
                assert sent.json()["data"] == {"accepted": True, "rooms": 1}
                located = await frame(ws, "location")
                assert (located["latitude"], located["longitude"]) == (3.15, 101.70)
                # heading to the pickup (3.1579, 101.7123): 1.63 km x 1.3 road at 25 km/h
                assert (located["next_stop"], located["eta_minutes"]) == ("pickup", 5.1)
                await client.post(f"/api/v1/parcels/shipments/{order['shipment']['id']}/pickup",
                                  headers=courier.headers)
                assert (await frame(ws, "status"))["status"] == "picked_up"
                with pytest.raises(TimeoutError):
                    await frame(their_ws, "location", timeout=0.3)
        await wait_for(lambda: _stored(runtime, 2))


async def test_a_socket_without_a_valid_session_is_refused(infra):
    async with parcels_service(infra) as (runtime, client):
        customer = person(infra, "customer")
        order, _ = await claimed(client, infra, customer)
        other, _ = await claimed(client, infra, person(infra, "customer"))
        session = await open_session(client, customer, order)
        number = order["shipment"]["tracking_number"]
        async with serve(create_service_app(runtime)) as port:
            base = f"ws://127.0.0.1:{port}/ws/parcels"
            assert await refused_with(f"{base}/{number}") == 401
            assert await refused_with(f"{base}/{number}?session=not-a-token") == 400
            assert await refused_with(f"{base}/{number}?session={uuid.uuid4()}") == 404
            wrong_room = other["shipment"]["tracking_number"]
            assert await refused_with(f"{base}/{wrong_room}?session={session['session_token']}") == 403
        stranger = await client.post(f"/api/v1/parcels/orders/{order['id']}/tracking-sessions",
                                     headers=person(infra, "customer").headers)
        assert stranger.status_code == 404


async def test_an_expired_session_is_disconnected_and_refused(infra):
    async with parcels_service(infra, tracking_session_seconds=2.0) as (runtime, client):
        customer = person(infra, "customer")
        order, _ = await claimed(client, infra, customer)
        async with serve(create_service_app(runtime)) as port:
            session = await open_session(client, customer, order)
            url = f"ws://127.0.0.1:{port}{session['websocket_path']}"
            async with connect(url) as ws:
                await frame(ws, "snapshot")
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 4)
                assert closed.value.rcvd.code == 4401
            assert await refused_with(url) == 401


async def test_a_revoked_session_is_disconnected_at_once_and_refused(infra):
    async with parcels_service(infra) as (runtime, client):
        customer = person(infra, "customer")
        order, _ = await claimed(client, infra, customer)
        session = await open_session(client, customer, order)
        async with serve(create_service_app(runtime)) as port:
            url = f"ws://127.0.0.1:{port}{session['websocket_path']}"
            async with connect(url) as ws:
                await frame(ws, "snapshot")
                revoked = await client.delete(
                    f"/api/v1/parcels/orders/{order['id']}/tracking-sessions/{session['id']}",
                    headers=customer.headers)
                assert revoked.status_code == 200
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 3)
                assert closed.value.rcvd.code == 4401
            assert await refused_with(url) == 401


async def test_fixes_are_checked_and_need_an_online_courier(infra):
    async with parcels_service(infra) as (runtime, client):
        _order, courier = await claimed(client, infra, person(infra, "customer"))
        for bad in ({"accuracy_m": 0}, {"accuracy_m": 250}, {"latitude": 95}, {"latitude": 0, "longitude": 0},
                    {"recorded_at": "2099-01-01T00:00:00Z"}):
            response = await client.post("/api/v1/parcels/couriers/me/location",
                                         headers=courier.headers,
                                         json={"latitude": 3.1, "longitude": 101.6} | bad)
            assert 400 <= response.status_code < 500, bad
        await client.post("/api/v1/parcels/couriers/me/offline", headers=courier.headers)
        assert (await fix(client, courier, 3.1, 101.6)).status_code == 409
        customer = person(infra, "customer")
        assert (await fix(client, customer, 3.1, 101.6)).status_code == 403
        await asyncio.sleep(0.3)
        assert await _stored(runtime, 1) and not await _stored(runtime, 2)


async def _stored(runtime, at_least: int) -> bool:
    async with runtime.database.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(LocationEvent)) >= at_least
