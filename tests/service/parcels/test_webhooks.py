"""Webhooks: signed deliveries to a local receiver, retries with backoff, attempts recorded,
auto-disable after consecutive failures, replay."""

from tests.service.parcels.support import Receiver, claimed, paid_order, parcels_service, serve
from tests.support.harness import wait_for
from tests.support.people import person

HOOKS = "/api/v1/parcels/webhooks"
SECRET = "a-long-enough-shared-secret"


async def subscribe(client, customer, port: int, events=None) -> dict:
    body = {"url": f"http://127.0.0.1:{port}/hooks", "secret": SECRET}
    if events:
        body["events"] = events
    response = await client.post(HOOKS, json=body, headers=customer.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def _settled(client, customer, hook_id: str) -> bool:
    rows = await deliveries(client, customer, hook_id)
    return bool(rows) and all(r["status"] in ("delivered", "permanent_failure") for r in rows)


async def deliveries(client, customer, hook_id: str) -> list[dict]:
    response = await client.get(f"{HOOKS}/{hook_id}/deliveries?limit=100", headers=customer.headers)
    return response.json()["data"]


async def test_every_shipment_event_arrives_signed(infra):
    receiver = Receiver(SECRET)
    async with serve(receiver) as port, parcels_service(infra) as (_runtime, client):
        customer = person(infra, "customer")
        hook = await subscribe(client, customer, port)
        assert hook["secret"] == SECRET and hook["active"] is True
        order, courier = await claimed(client, infra, customer)
        await client.post(f"/api/v1/parcels/shipments/{order['shipment']['id']}/pickup",
                          headers=courier.headers)
        await wait_for(lambda: len(receiver.received) == 3)
        types = [r["body"]["type"] for r in receiver.received]
        assert sorted(types) == sorted(["parcels.shipment_offered", "parcels.shipment_assigned",
                                        "parcels.shipment_picked_up"])
        assert all(r["verified"] for r in receiver.received)
        body = receiver.received[0]["body"]["data"]
        assert body["tracking_number"] == order["shipment"]["tracking_number"]
        assert "customer_id" not in body and "courier_id" not in body
        async def recorded():
            rows = await deliveries(client, customer, hook["id"])
            return {(r["status"], r["response_code"]) for r in rows} == {("delivered", 200)}
        await wait_for(recorded)
        listed = await client.get(HOOKS, headers=customer.headers)
        assert "secret" not in listed.json()["data"][0]


async def test_a_failing_receiver_is_retried_with_growing_backoff(infra):
    receiver = Receiver(SECRET, statuses=[500, 503])
    async with serve(receiver) as port, parcels_service(
            infra, webhook_backoff_seconds=0.2) as (_runtime, client):
        customer = person(infra, "customer")
        hook = await subscribe(client, customer, port, ["parcels.shipment_offered"])
        await paid_order(client, customer)
        await wait_for(lambda: len(receiver.received) == 3, timeout=10)
        await wait_for(lambda: _settled(client, customer, hook["id"]))
        first, second, third = (r["at"] for r in receiver.received)
        assert second - first >= 0.2 and third - second >= 0.4
        [row] = await deliveries(client, customer, hook["id"])
        assert (row["status"], row["attempts"], row["response_code"]) == ("delivered", 3, 200)
        attempts = await client.get(f"{HOOKS}/{hook['id']}/deliveries/{row['id']}/attempts",
                                    headers=customer.headers)
        assert [(a["status"], a["response_code"]) for a in attempts.json()["data"]] == [
            ("failed", 500), ("failed", 503), ("delivered", 200)]


async def test_a_webhook_is_disabled_after_consecutive_failures_and_can_be_replayed(infra):
    receiver = Receiver(SECRET, always=500)
    async with serve(receiver) as port, parcels_service(
            infra, webhook_max_failures=3, webhook_backoff_seconds=0.05) as (_runtime, client):
        customer = person(infra, "customer")
        hook = await subscribe(client, customer, port, ["parcels.shipment_offered"])
        await paid_order(client, customer)

        async def disabled():
            shown = await client.get(HOOKS, headers=customer.headers)
            return shown.json()["data"][0]["active"] is False
        await wait_for(disabled, timeout=10)
        await wait_for(lambda: _settled(client, customer, hook["id"]))
        assert len(receiver.received) == 3
        [row] = await deliveries(client, customer, hook["id"])
        assert row["status"] == "permanent_failure" and row["attempts"] == 3
        await paid_order(client, customer)  # a disabled webhook gets nothing new
        receiver.always = None
        enable = await client.post(f"{HOOKS}/{hook['id']}/enable", headers=customer.headers)
        assert enable.json()["data"]["active"] is True
        replay = await client.post(f"{HOOKS}/{hook['id']}/deliveries/{row['id']}/replay",
                                   headers=customer.headers)
        assert replay.status_code == 201 and replay.json()["data"]["replay_of"] == row["id"]
        await wait_for(lambda: len(receiver.received) == 4)
        assert receiver.received[-1]["verified"] and receiver.received[-1]["status"] == 200
        assert receiver.received[-1]["body"] == receiver.received[0]["body"]
        admin = person(infra, "admin")
        audit = await client.get(f"/api/v1/parcels/admin/audit?table=webhooks&target_id={hook['id']}",
                                 headers=admin.headers)
        assert "webhook.auto_disable" in [a["action"] for a in audit.json()["data"]]


async def test_webhooks_are_private_and_validated(infra):
    async with parcels_service(infra) as (_runtime, client):
        customer, other = person(infra, "customer"), person(infra, "customer")
        hook = await subscribe(client, customer, 9)
        assert (await client.delete(f"{HOOKS}/{hook['id']}", headers=other.headers)).status_code == 404
        bad = [{"url": "ftp://example.com/x"}, {"url": "http://127.0.0.1:9/x", "events": ["nope"]},
               {"url": "http://127.0.0.1:9/x", "secret": "short"}]
        for body in bad:
            assert (await client.post(HOOKS, json=body, headers=customer.headers)).status_code in (400, 422)
        assert (await client.delete(f"{HOOKS}/{hook['id']}", headers=customer.headers)).status_code == 200
        assert (await client.get(HOOKS, headers=customer.headers)).json()["data"] == []
