"""Orders over HTTP: server pricing, Idempotency-Key, privacy, paying by event, cancelling."""

import asyncio

from kilat.services.parcels import domain
from kilat.services.parcels.domain import Item
from kilat.services.parcels.settings import ParcelsSettings
from tests.service.parcels.support import (
    BOX,
    KL,
    PJ,
    answer,
    claimed,
    order_body,
    paid_order,
    parcels_service,
    place,
)
from tests.support.harness import wait_for
from tests.support.people import person

ORDERS = "/api/v1/parcels/orders"


async def test_an_order_is_priced_on_the_server_by_the_formula(infra):
    async with parcels_service(infra) as (_runtime, client):
        customer = person(infra, "customer")
        order = await place(client, customer, service_level="express")
        expected = domain.quote((KL["latitude"], KL["longitude"]), (PJ["latitude"], PJ["longitude"]),
                                [Item(2.5, 30, 20, 10, 1)], "express",
                                ParcelsSettings().pricing_rules())
        assert (order["price"], order["currency"]) == (expected.price, "MYR")
        assert order["status"] == "awaiting_payment" and order["payment_status"] == "unpaid"
        assert domain.is_tracking_number(order["shipment"]["tracking_number"])
        assert order["shipment"]["status"] == "pending"


async def test_the_same_idempotency_key_replays_and_another_body_is_409(infra):
    async with parcels_service(infra) as (_runtime, client):
        customer = person(infra, "customer")
        headers = customer.headers | {"Idempotency-Key": "order-1"}
        first = await client.post(ORDERS, json=order_body(), headers=headers)
        again = await client.post(ORDERS, json=order_body(), headers=headers)
        other = await client.post(ORDERS, json=order_body(service_level="express"), headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert other.status_code == 409
        listed = await client.get(ORDERS, headers=customer.headers)
        assert listed.json()["pagination"]["total"] == 1


async def test_a_stranger_cannot_read_or_pay_or_cancel_an_order(infra):
    async with parcels_service(infra) as (_runtime, client):
        order = await place(client, person(infra, "customer"))
        stranger = person(infra, "customer")
        courier = person(infra, "courier")
        for who in (stranger, courier):
            assert (await client.get(f"{ORDERS}/{order['id']}", headers=who.headers)).status_code == 404
        assert (await client.post(f"{ORDERS}/{order['id']}/pay", headers=stranger.headers)).status_code == 404
        assert (await client.post(f"{ORDERS}/{order['id']}/cancel", headers=stranger.headers)).status_code == 404
        assert (await client.get(ORDERS, headers=stranger.headers)).json()["data"] == []
        admin = person(infra, "admin")
        assert (await client.get(f"{ORDERS}/{order['id']}", headers=admin.headers)).status_code == 200


async def test_bad_orders_are_refused_and_change_nothing(infra):
    async with parcels_service(infra) as (_runtime, client):
        customer = person(infra, "customer")
        bad = [order_body(items=[]), order_body(items=[BOX | {"weight_kg": -1}]),
               order_body(pickup_address=KL | {"latitude": 91}),
               order_body(pickup_address={"line1": "x", "city": "KL"}),
               order_body(dropoff_address={"latitude": 1.35, "longitude": 103.8, "line1": "SG",
                                           "city": "Singapore"}),
               order_body(pickup_address=KL | {"latitude": 0, "longitude": 0}),
               order_body(service_level="overnight"),
               order_body(items=[BOX | {"description": "books\x00"}]),
               order_body(pickup_address=KL | {"line1": "1 Jalan\x07Ampang"}),
               order_body(surprise=True)]
        for body in bad:
            response = await client.post(ORDERS, json=body, headers=customer.headers)
            assert 400 <= response.status_code < 500 and response.json()["success"] is False, body
        courier = person(infra, "courier")
        assert (await client.post(ORDERS, json=order_body(), headers=courier.headers)).status_code == 403
        assert (await client.get(ORDERS, headers=customer.headers)).json()["pagination"]["total"] == 0


async def test_pay_answers_paid_once_the_payment_service_captures(infra):
    async with parcels_service(infra) as (runtime, client):
        customer = person(infra, "customer")
        order = await paid_order(client, customer)
        request = runtime.payment.requests[0].data
        assert request["charge_id"] == str(domain.charge_id(__import__("uuid").UUID(order["id"]), 1))
        assert request["amount"] == order["price"] and request["source"] == "parcels"
        assert request["payer_id"] == customer.id
        again = await client.post(f"{ORDERS}/{order['id']}/pay", headers=customer.headers)
        assert again.status_code == 200 and again.json()["data"]["status"] == "paid"
        assert len(runtime.payment.requests) == 1


async def test_pay_is_202_while_the_payment_service_has_not_answered(infra):
    async with parcels_service(infra, payment="silent", payment_wait_seconds=0.2) as (runtime, client):
        customer = person(infra, "customer")
        order = await place(client, customer)
        response = await client.post(f"{ORDERS}/{order['id']}/pay", headers=customer.headers)
        assert response.status_code == 202
        assert response.json()["data"]["status"] == "payment_pending"
        await wait_for(lambda: runtime.payment.requests)
        await answer(infra, "payment.charge_captured", runtime.payment.requests[0].data,
                     amount=order["price"])
        async def paid():
            r = await client.get(f"{ORDERS}/{order['id']}", headers=customer.headers)
            return r.json()["data"]["status"] == "paid"
        await wait_for(paid)
        cancel = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=customer.headers)
        assert cancel.status_code == 200


async def test_a_declined_payment_can_be_retried_as_a_new_charge(infra):
    async with parcels_service(infra, payment="fail") as (runtime, client):
        customer = person(infra, "customer")
        order = await place(client, customer)
        first = await client.post(f"{ORDERS}/{order['id']}/pay", headers=customer.headers)
        assert first.status_code == 200
        data = first.json()["data"]
        assert (data["status"], data["payment_status"]) == ("awaiting_payment", "failed")
        assert data["payment_failure"] == "card declined"
        runtime.payment.mode = "capture"
        second = await client.post(f"{ORDERS}/{order['id']}/pay", headers=customer.headers)
        assert second.json()["data"]["status"] == "paid"
        charges = {e.data["charge_id"] for e in runtime.payment.requests}
        assert len(charges) == 2


async def test_cancel_refunds_in_full_before_assignment_and_less_the_fee_after(infra):
    async with parcels_service(infra) as (runtime, client):
        customer = person(infra, "customer")
        early = await paid_order(client, customer)
        response = await client.post(f"{ORDERS}/{early['id']}/cancel", headers=customer.headers,
                                     json={"reason": "changed my mind"})
        assert response.status_code == 200
        assert response.json()["data"]["refund_amount"] == early["price"]
        late, _courier = await claimed(client, infra, customer)
        response = await client.post(f"{ORDERS}/{late['id']}/cancel", headers=customer.headers)
        assert response.json()["data"]["refund_amount"] == late["price"] - late["price"] * 20 // 100
        assert response.json()["data"]["shipment"]["status"] == "cancelled"
        await wait_for(lambda: len(runtime.payment.refunds) == 2)

        async def refunded():
            r = await client.get(f"{ORDERS}/{early['id']}", headers=customer.headers)
            return r.json()["data"]["payment_status"] == "refunded"
        await wait_for(refunded)
        again = await client.post(f"{ORDERS}/{early['id']}/cancel", headers=customer.headers)
        assert again.status_code == 409


async def test_a_picked_up_parcel_cannot_be_cancelled(infra):
    async with parcels_service(infra) as (_runtime, client):
        customer = person(infra, "customer")
        order, courier = await claimed(client, infra, customer)
        await client.post(f"/api/v1/parcels/shipments/{order['shipment']['id']}/pickup",
                          headers=courier.headers)
        response = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=customer.headers)
        assert response.status_code == 409
        shown = await client.get(f"{ORDERS}/{order['id']}", headers=customer.headers)
        assert shown.json()["data"]["status"] == "paid"
        await asyncio.sleep(0)
