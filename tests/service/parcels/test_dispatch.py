"""Dispatch and courier steps: one winner among concurrent claimers, admin assignment that never
overwrites, the state machine over HTTP, proof of delivery."""

import asyncio

from sqlalchemy import func, select

from kilat.services.parcels.models import Assignment
from tests.service.parcels.support import (
    KL,
    PNG,
    claimed,
    listen,
    online_courier,
    paid_order,
    parcels_service,
    place,
)
from tests.support.people import person

SHIPMENTS = "/api/v1/parcels/shipments"


async def test_fifty_couriers_claim_one_shipment_and_exactly_one_wins(infra):
    async with parcels_service(infra) as (runtime, client):
        order = await paid_order(client, person(infra, "customer"))
        couriers = [await online_courier(client, infra) for _ in range(50)]
        claim = f"{SHIPMENTS}/{order['shipment']['id']}/claim"
        responses = await asyncio.gather(*(client.post(claim, headers=c.headers) for c in couriers))
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] + [409] * 49
        winner = next(r for r in responses if r.status_code == 200).json()["data"]["courier_id"]
        async with runtime.database.session(write=False) as session:
            open_rows = await session.scalar(select(func.count()).select_from(Assignment).where(
                Assignment.ended_at.is_(None)))
        assert open_rows == 1
        shown = await client.get(f"{SHIPMENTS}/{order['shipment']['id']}",
                                 headers=couriers[0].headers if couriers[0].id == winner
                                 else person(infra, "admin").headers)
        assert shown.json()["data"]["courier_id"] == winner


async def test_an_unpaid_shipment_cannot_be_claimed_or_listed(infra):
    async with parcels_service(infra) as (_runtime, client):
        order = await place(client, person(infra, "customer"))
        courier = await online_courier(client, infra)
        response = await client.post(f"{SHIPMENTS}/{order['shipment']['id']}/claim",
                                     headers=courier.headers)
        assert response.status_code == 409
        jobs = await client.get("/api/v1/parcels/jobs", headers=courier.headers)
        assert jobs.json()["data"] == []


async def test_paid_shipments_are_pushed_to_couriers_nearby_and_listed_as_jobs(infra):
    async with parcels_service(infra) as (_runtime, client):
        courier = await online_courier(client, infra)
        offers = await listen(infra, "parcels.shipment_offered")
        order = await paid_order(client, person(infra, "customer"))
        jobs = await client.get("/api/v1/parcels/jobs", headers=courier.headers)
        assert [j["shipment_id"] for j in jobs.json()["data"]] == [order["shipment"]["id"]]
        assert jobs.json()["data"][0]["distance_km"] < 1
        from tests.support.harness import wait_for
        await wait_for(lambda: offers.events)
        assert offers.events[0].data["courier_ids"] == [courier.id]


async def test_jobs_are_judged_from_the_couriers_latest_fix_not_the_stored_row(infra):
    async with parcels_service(infra) as (_runtime, client):
        courier = await online_courier(client, infra)
        order = await paid_order(client, person(infra, "customer"))
        far = {"latitude": KL["latitude"] + 0.5, "longitude": KL["longitude"], "accuracy_m": 8}
        moved = await client.post("/api/v1/parcels/couriers/me/location",
                                  headers=courier.headers, json=far)
        assert moved.status_code == 200
        # at once, before the telemetry flush writes the courier's row
        jobs = await client.get("/api/v1/parcels/jobs", headers=courier.headers)
        assert order["shipment"]["id"] not in [j["shipment_id"] for j in jobs.json()["data"]]


async def test_a_courier_with_no_position_sees_no_jobs(infra):
    async with parcels_service(infra) as (_runtime, client):
        await paid_order(client, person(infra, "customer"))
        courier = person(infra, "courier")
        await client.post("/api/v1/parcels/couriers", headers=courier.headers,
                          json={"vehicle_type": "motorcycle", "vehicle_plate": "WXY 1234"})
        jobs = await client.get("/api/v1/parcels/jobs", headers=courier.headers)
        assert jobs.status_code == 200 and jobs.json()["data"] == []


async def test_an_offline_or_unregistered_courier_cannot_claim(infra):
    async with parcels_service(infra) as (_runtime, client):
        order = await paid_order(client, person(infra, "customer"))
        claim = f"{SHIPMENTS}/{order['shipment']['id']}/claim"
        assert (await client.post(claim, headers=person(infra, "courier").headers)).status_code == 403
        courier = await online_courier(client, infra)
        await client.post("/api/v1/parcels/couriers/me/offline", headers=courier.headers)
        assert (await client.post(claim, headers=courier.headers)).status_code == 409


async def test_admin_assignment_never_overwrites_an_open_one(infra):
    async with parcels_service(infra) as (_runtime, client):
        admin = person(infra, "admin")
        order, first = await claimed(client, infra, person(infra, "customer"))
        other = await online_courier(client, infra)
        assign = f"/api/v1/parcels/admin/shipments/{order['shipment']['id']}/assign"
        response = await client.post(assign, json={"courier_id": other.id}, headers=admin.headers)
        assert response.status_code == 409
        shown = await client.get(f"{SHIPMENTS}/{order['shipment']['id']}", headers=admin.headers)
        assert shown.json()["data"]["courier_id"] == first.id
        fresh = await paid_order(client, person(infra, "customer"))
        assign = f"/api/v1/parcels/admin/shipments/{fresh['shipment']['id']}/assign"
        response = await client.post(assign, json={"courier_id": other.id}, headers=admin.headers)
        assert response.status_code == 200 and response.json()["data"]["courier_id"] == other.id
        courier_assigns = await client.post(assign, json={"courier_id": other.id},
                                            headers=other.headers)
        assert courier_assigns.status_code == 403


async def test_courier_steps_follow_the_state_machine(infra):
    async with parcels_service(infra) as (_runtime, client):
        order, courier = await claimed(client, infra, person(infra, "customer"))
        sid = order["shipment"]["id"]
        stranger = await online_courier(client, infra)
        assert (await client.post(f"{SHIPMENTS}/{sid}/pickup", headers=stranger.headers)).status_code == 404
        assert (await client.post(f"{SHIPMENTS}/{sid}/in-transit", headers=courier.headers)).status_code == 409
        deliver = await client.post(f"{SHIPMENTS}/{sid}/deliver", headers=courier.headers,
                                    data={"recipient_name": "Ravi"})
        assert deliver.status_code == 409
        assert (await client.post(f"{SHIPMENTS}/{sid}/pickup", headers=courier.headers)).status_code == 200
        assert (await client.post(f"{SHIPMENTS}/{sid}/pickup", headers=courier.headers)).status_code == 409
        fail = await client.post(f"{SHIPMENTS}/{sid}/fail", headers=courier.headers,
                                 json={"reason": "recipient not home"})
        assert fail.status_code == 200 and fail.json()["data"]["failure_reason"] == "recipient not home"
        returned = await client.post(f"{SHIPMENTS}/{sid}/return", headers=courier.headers)
        assert returned.json()["data"]["status"] == "returned"
        timeline = await client.get(f"{SHIPMENTS}/{sid}/timeline", headers=courier.headers)
        statuses = [e["status"] for e in timeline.json()["data"]]
        assert statuses == ["pending", "pending", "assigned", "picked_up", "failed", "returned"]
        assert timeline.json()["data"][3]["details"]["status"] == ["assigned", "picked_up"]


async def test_delivery_takes_a_checked_photo_and_the_recipient(infra):
    async with parcels_service(infra, photo_max_bytes=1000) as (_runtime, client):
        order, courier = await claimed(client, infra, person(infra, "customer"))
        sid = order["shipment"]["id"]
        for step in ("pickup", "in-transit"):
            await client.post(f"{SHIPMENTS}/{sid}/{step}", headers=courier.headers)
        url = f"{SHIPMENTS}/{sid}/deliver"
        not_image = await client.post(url, headers=courier.headers, data={"recipient_name": "Ravi"},
                                      files={"photo": ("pod.png", b"GIF89a....", "image/png")})
        too_big = await client.post(url, headers=courier.headers, data={"recipient_name": "Ravi"},
                                    files={"photo": ("pod.png", PNG + b"\x00" * 2000, "image/png")})
        no_name = await client.post(url, headers=courier.headers, data={"recipient_name": " "})
        assert (not_image.status_code, too_big.status_code, no_name.status_code) == (400, 413, 422)
        shown = await client.get(f"{SHIPMENTS}/{sid}", headers=courier.headers)
        assert shown.json()["data"]["status"] == "in_transit"
        done = await client.post(url, headers=courier.headers, data={"recipient_name": "Ravi"},
                                 files={"photo": ("pod.png", PNG, "image/png")})
        assert done.status_code == 200
        data = done.json()["data"]
        assert data["recipient_name"] == "Ravi" and data["stops"][1]["arrived_at"]
        photo = await client.get(data["proof_photo_url"])
        assert photo.status_code == 200 and photo.content == PNG
        order_now = await client.get(f"/api/v1/parcels/orders/{order['id']}",
                                     headers=person(infra, "admin").headers)
        assert order_now.json()["data"]["status"] == "completed"


async def test_public_tracking_shows_the_timeline_without_personal_data(infra):
    async with parcels_service(infra) as (_runtime, client):
        order, courier = await claimed(client, infra, person(infra, "customer"))
        number = order["shipment"]["tracking_number"]
        response = await client.get(f"/api/v1/parcels/track/{number}")
        assert response.status_code == 200
        text = response.text
        for secret in (courier.id, order["customer_id"], "Siti", "Jalan", "+6012"):
            assert secret not in text
        assert [e["status"] for e in response.json()["data"]["timeline"]][-1] == "assigned"
        assert (await client.get("/api/v1/parcels/track/DM-20261208-ZZZZZZ")).status_code == 404
        assert (await client.get("/api/v1/parcels/track/nope")).status_code == 422


async def test_a_courier_with_two_shipments_sees_the_stops_ahead_in_run_order(infra):
    async with parcels_service(infra) as (_runtime, client):
        first, courier = await claimed(client, infra, person(infra, "customer"))
        second = await paid_order(client, person(infra, "customer"))
        await client.post(f"{SHIPMENTS}/{second['shipment']['id']}/claim", headers=courier.headers)
        route = await client.get("/api/v1/parcels/couriers/me/route", headers=courier.headers)
        stops = [(s["sequence"], s["tracking_number"], s["stop_type"]) for s in route.json()["data"]]
        one, two = first["shipment"]["tracking_number"], second["shipment"]["tracking_number"]
        assert stops == [(1, one, "pickup"), (1, one, "dropoff"), (2, two, "pickup"), (2, two, "dropoff")]
        await client.post(f"{SHIPMENTS}/{first['shipment']['id']}/pickup", headers=courier.headers)
        route = await client.get("/api/v1/parcels/couriers/me/route", headers=courier.headers)
        assert [(s["tracking_number"], s["stop_type"]) for s in route.json()["data"]][0] == (one, "dropoff")
