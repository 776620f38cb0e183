"""Operations: audit rows for every change, GDPR erase keeping the report totals, the daily
report (JSON, CSV, the scheduled job), persisted jobs, flags and settings, ads."""

import uuid
from datetime import timedelta

from sqlalchemy import select

from kilat.platform.models import utcnow
from kilat.services.parcels.models import BackgroundJob, Customer, DeliveryAddress, Order, Shipment
from tests.service.parcels.support import KL, PNG, claimed, online_courier, paid_order, parcels_service
from tests.support.harness import wait_for
from tests.support.people import person

ADMIN = "/api/v1/parcels/admin"


async def delivered(client, infra, customer) -> dict:
    order, courier = await claimed(client, infra, customer)
    sid = order["shipment"]["id"]
    for step in ("pickup", "in-transit"):
        assert (await client.post(f"/api/v1/parcels/shipments/{sid}/{step}",
                                  headers=courier.headers)).status_code == 200
    response = await client.post(f"/api/v1/parcels/shipments/{sid}/deliver", headers=courier.headers,
                                 data={"recipient_name": "Ravi"},
                                 files={"photo": ("pod.png", PNG, "image/png")})
    assert response.status_code == 200
    return order | {"proof_photo_url": response.json()["data"]["proof_photo_url"]}


async def test_every_change_leaves_an_audit_row_readable_by_admins_only(infra):
    async with parcels_service(infra) as (_runtime, client):
        customer, admin = person(infra, "customer"), person(infra, "admin")
        order = await delivered(client, infra, customer)
        response = await client.get(f"{ADMIN}/audit?limit=100", headers=admin.headers,
                                    params={"target_id": order["id"]})
        actions = [a["action"] for a in response.json()["data"]]
        assert sorted(actions) == sorted(["order.create", "order.pay", "order.paid", "order.complete"])
        created = next(a for a in response.json()["data"] if a["action"] == "order.create")
        assert created["actor_id"] == customer.id and created["request_id"] and created["ip"]
        assert created["changes"]["pickup"] == "[redacted]" and "Siti" not in response.text
        shipment = await client.get(f"{ADMIN}/audit?limit=100", headers=admin.headers,
                                    params={"table": "shipments", "target_id": order["shipment"]["id"]})
        assert [a["action"] for a in reversed(shipment.json()["data"])] == [
            "shipment.offered:pending", "shipment.status_update:assigned",
            "shipment.status_update:picked_up", "shipment.status_update:in_transit",
            "shipment.status_update:delivered"]
        delivered_row = shipment.json()["data"][0]
        assert delivered_row["changes"]["recipient_name"] == "[redacted]"
        assert (await client.get(f"{ADMIN}/audit", headers=customer.headers)).status_code == 403


async def test_the_daily_report_counts_deliveries_as_json_and_csv(infra):
    async with parcels_service(infra) as (_runtime, client):
        admin = person(infra, "admin")
        await delivered(client, infra, person(infra, "customer"))
        await paid_order(client, person(infra, "customer"))
        today = utcnow().date().isoformat()
        assert (await client.get(f"{ADMIN}/reports?date={today}", headers=admin.headers)).status_code == 404
        made = await client.post(f"{ADMIN}/reports", json={"date": today}, headers=admin.headers)
        assert made.status_code == 201
        rows = {r["city"]: r for r in made.json()["data"]["rows"]}
        kl = rows["Kuala Lumpur"]
        assert (kl["orders"], kl["delivered"], kl["failed"], kl["on_time_percent"]) == (2, 1, 0, 100.0)
        assert kl["median_pickup_minutes"] is not None and kl["couriers_active"] == 1
        assert rows["*"]["couriers_online"] == 1 and rows["*"]["courier_utilisation_percent"] == 100.0
        csv = await client.get(f"{ADMIN}/reports?date={today}&format=csv", headers=admin.headers)
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.strip().splitlines()
        assert lines[0].startswith("city,orders,delivered") and lines[1].startswith("Kuala Lumpur,2,1,0")


async def test_gdpr_erase_leaves_no_personal_data_and_keeps_the_totals(infra):
    async with parcels_service(infra) as (runtime, client):
        customer, admin = person(infra, "customer"), person(infra, "admin")
        await client.put("/api/v1/parcels/me", headers=customer.headers,
                         json={"full_name": "Siti Aminah", "phone": "+60123456789", "city": "Kuala Lumpur"})
        await client.post("/api/v1/parcels/me/addresses", headers=customer.headers,
                          json={k: v for k, v in KL.items()} | {"label": "home"})
        order = await delivered(client, infra, customer)
        today = utcnow().date().isoformat()
        before = (await client.post(f"{ADMIN}/reports", json={"date": today},
                                    headers=admin.headers)).json()["data"]["rows"]
        erased = await client.post(f"{ADMIN}/customers/{customer.id}/erase", headers=admin.headers)
        assert erased.status_code == 200 and erased.json()["data"]["photos_deleted"] == 1
        async with runtime.database.session(write=False) as session:
            row = await session.get(Customer, customer.user_id)
            addresses = (await session.scalars(select(DeliveryAddress))).all()
            kept = await session.get(Order, uuid.UUID(order["id"]))
        assert (row.full_name, row.phone, row.email) == ("erased", None, None) and row.erased_at
        assert addresses == [] and kept.price == order["price"] and kept.charge_id
        async with runtime.database.session(write=False) as session:
            shipment = await session.get(Shipment, uuid.UUID(order["shipment"]["id"]))
        assert (shipment.dropoff_latitude, shipment.recipient_name) == (round(3.1185, 2), "erased")
        stored = str(kept.pickup) + str(kept.dropoff)
        for pii in ("Siti", "Ravi", "Jalan", "+6012", "+6019"):
            assert pii not in stored
        shown = await client.get(f"/api/v1/parcels/orders/{order['id']}", headers=admin.headers)
        for pii in ("Siti", "Ravi", "Jalan", customer.email):
            assert pii not in shown.text
        await wait_for(lambda: _gone(client, order["proof_photo_url"]))
        again = await client.post(f"{ADMIN}/reports", json={"date": today}, headers=admin.headers)
        assert again.json()["data"]["rows"] == before
        assert (await client.get("/api/v1/parcels/me", headers=customer.headers)).status_code == 403
        audit = await client.get(f"{ADMIN}/audit", headers=admin.headers,
                                 params={"table": "customers", "target_id": customer.id})
        assert "customer.erase" in [a["action"] for a in audit.json()["data"]]
        assert "Siti" not in audit.text


async def _gone(client, url: str) -> bool:
    return (await client.get(url)).status_code == 404


async def test_the_scheduled_report_runs_once_as_a_persisted_job(infra):
    async with parcels_service(infra, report_hour_utc=0) as (runtime, client):
        admin = person(infra, "admin")

        async def jobs_done():
            response = await client.get(f"{ADMIN}/jobs?name=daily_report", headers=admin.headers)
            return [j for j in response.json()["data"] if j["status"] == "completed"]
        [job] = await wait_for(jobs_done)
        yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
        assert job["payload"] == {"date": yesterday}
        report = await client.get(f"{ADMIN}/reports?date={yesterday}", headers=admin.headers)
        assert report.status_code == 200 and report.json()["data"]["status"] == "succeeded"
        stored, kind = await runtime.context.storage.get(report.json()["data"]["file_key"])
        assert kind == "text/csv" and stored.decode().startswith("city,orders,delivered")
        jobs = runtime.context.jobs
        assert await jobs.schedule(utcnow()) == 0  # not due again; and the dedupe key holds
        async with runtime.database.session() as session:
            assert await jobs.enqueue(session, "daily_report", {"date": yesterday},
                                      f"daily_report:{yesterday}") is None
        retry = await client.post(f"{ADMIN}/jobs/{job['id']}/retry", headers=admin.headers)
        assert retry.json()["data"]["status"] == "queued"
        await wait_for(lambda: _status(runtime, job["id"], "completed"))


async def _status(runtime, job_id: str, status: str) -> bool:
    async with runtime.database.session(write=False) as session:
        job = await session.get(BackgroundJob, uuid.UUID(job_id))
        return job.status == status and job.attempt == 1


async def test_a_failing_job_is_retried_then_given_up(infra):
    async with parcels_service(infra, job_max_attempts=2) as (runtime, client):
        jobs = runtime.context.jobs

        async def boom(session, job):
            raise RuntimeError("report storage down")
        jobs.handlers["broken"] = boom
        async with runtime.database.session() as session:
            job = await jobs.enqueue(session, "broken", {})
        async def given_up():
            await jobs.run_one(utcnow() + timedelta(seconds=10))  # past the retry backoff
            async with runtime.database.session(write=False) as session:
                found = await session.get(BackgroundJob, job.id)
            return found if found.status == "failed" else None
        row = await wait_for(given_up, timeout=5)
        assert (row.status, row.attempt) == ("failed", 2) and "storage down" in row.last_error


async def test_flags_settings_and_targeted_ads(infra):
    async with parcels_service(infra) as (_runtime, client):
        admin, customer = person(infra, "admin"), person(infra, "customer")
        await client.put("/api/v1/parcels/me", headers=customer.headers, json={"city": "Penang"})
        everyone = await client.post(f"{ADMIN}/ads", headers=admin.headers,
                                     json={"title": "Ship more, pay less"})
        penang = await client.post(f"{ADMIN}/ads", headers=admin.headers, json={
            "title": "Penang express", "target_rules": {"all": [
                {"field": "city", "op": "eq", "value": "Penang"},
                {"field": "channel", "op": "in", "value": ["web", "mobile"]}]}})
        assert everyone.status_code == penang.status_code == 201
        bad = await client.post(f"{ADMIN}/ads", headers=admin.headers,
                                json={"title": "x", "target_rules": {"field": "age", "op": "eq", "value": 1}})
        assert bad.status_code == 422
        guest = await client.get("/api/v1/parcels/ads?channel=web")
        assert [a["title"] for a in guest.json()["data"]] == ["Ship more, pay less"]
        mine = await client.get("/api/v1/parcels/ads?channel=mobile", headers=customer.headers)
        assert [a["title"] for a in mine.json()["data"]] == ["Ship more, pay less", "Penang express"]
        wechat = await client.get("/api/v1/parcels/ads?channel=wechat", headers=customer.headers)
        assert len(wechat.json()["data"]) == 1
        off = await client.put(f"{ADMIN}/flags/ads", headers=admin.headers, json={"enabled": False})
        assert off.status_code == 200
        assert (await client.get("/api/v1/parcels/ads")).json()["data"] == []
        setting = await client.put(f"{ADMIN}/settings/support.contact", headers=admin.headers,
                                   json={"value": {"email": "help@example.com"}})
        assert setting.status_code == 200
        for bad in ("9223372036854775808", "Ads", "x" * 61, "a%20b"):
            refused = await client.put(f"{ADMIN}/flags/{bad}", headers=admin.headers,
                                       json={"enabled": True})
            assert refused.status_code == 400, bad
        listed = await client.get(f"{ADMIN}/settings", headers=admin.headers)
        assert listed.json()["data"][0]["value"] == {"email": "help@example.com"}
        assert (await client.put(f"{ADMIN}/flags/ads", headers=customer.headers,
                                 json={"enabled": True})).status_code == 403
        courier = await online_courier(client, infra)
        assert courier


async def test_the_hourly_rollup_summarises_each_couriers_fixes(infra):
    from kilat.services.parcels.models import LocationEvent, LocationHourly

    async with parcels_service(infra) as (runtime, _client):
        courier = uuid.uuid4()
        hour = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        async with runtime.database.session() as session:
            for minute, lat in ((5, 3.10), (20, 3.12), (50, 3.11)):
                session.add(LocationEvent(recorded_at=hour + timedelta(minutes=minute),
                                          courier_id=courier, latitude=lat, longitude=101.6))
        jobs = runtime.context.jobs
        async with runtime.database.session() as session:
            job = await jobs.enqueue(session, "telemetry_rollup", {})
        await jobs.execute(job.id)
        async with runtime.database.session(write=False) as session:
            [row] = (await session.scalars(select(LocationHourly).where(
                LocationHourly.courier_id == courier))).all()
        assert (row.hour, row.fixes, row.min_latitude, row.max_latitude) == (hour, 3, 3.10, 3.12)


async def test_the_session_expiry_job_closes_expired_sessions(infra):
    async with parcels_service(infra, tracking_session_seconds=0.5) as (runtime, client):
        customer = person(infra, "customer")
        order, _ = await claimed(client, infra, customer)
        opened = await client.post(f"/api/v1/parcels/orders/{order['id']}/tracking-sessions",
                                   headers=customer.headers)
        assert opened.status_code == 201
        jobs = runtime.context.jobs
        async with runtime.database.session() as session:
            job = await jobs.enqueue(session, "session_expiry", {}, at=utcnow() + timedelta(seconds=1))
        await wait_for(lambda: _closed(runtime, opened.json()["data"]["id"]), timeout=10)
        assert job is not None


async def _closed(runtime, session_id: str) -> bool:
    from kilat.services.parcels.models import TrackingSession

    async with runtime.database.session(write=False) as session:
        row = await session.get(TrackingSession, uuid.UUID(session_id))
        return row.closed_at is not None
