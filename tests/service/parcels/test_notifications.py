"""Each shipment step reaches the customer (by identity user id) through the notification
service, in their language; a paid shipment is pushed to the couriers nearby."""

from tests.service.notification.support import announce_user, inbox, notification_service, wait_inbox
from tests.service.parcels.support import claimed, online_courier, parcels_service


async def test_the_customer_hears_each_step_and_couriers_nearby_hear_of_the_job(infra):
    async with notification_service(infra) as (_n, notes), parcels_service(infra) as (_p, client):
        customer = await announce_user(infra, "customer")
        courier_user = await announce_user(infra, "courier", name="Ali")
        courier = await online_courier(client, infra)
        order, claimer = await claimed(client, infra, customer)
        await client.post(f"/api/v1/parcels/shipments/{order['shipment']['id']}/pickup",
                          headers=claimer.headers)
        paid = await wait_inbox(notes, customer, "parcels.order_paid")
        assert order["shipment"]["tracking_number"] in paid["body"]
        assigned = await wait_inbox(notes, customer, "parcels.shipment_assigned")
        assert assigned["title"] == "Courier Assigned"
        await wait_inbox(notes, customer, "parcels.shipment_picked_up")
        job = await wait_inbox(notes, courier, "parcels.shipment_offered")
        assert job["title"] == "New Delivery Job"
        offline = [n["event_type"] for n in await inbox(notes, courier_user)]
        assert "parcels.shipment_offered" not in offline  # not online, not nearby


def test_every_parcels_rule_has_english_and_malay_templates():
    from kilat.services.notification.verticals import parcels

    for kind in parcels.RULES:
        assert {"en", "ms"} <= set(parcels.TEMPLATES[kind]), kind
