from tests.service.parcels.support import PNG, claimed, parcels_service
from tests.support.people import person


async def test_a_parcel_goes_from_order_to_delivery(infra):
    async with parcels_service(infra) as (runtime, client):
        customer = person(infra, "customer")
        order, courier = await claimed(client, infra, customer)
        sid = order["shipment"]["id"]
        for step in ("pickup", "in-transit"):
            r = await client.post(f"/api/v1/parcels/shipments/{sid}/{step}", headers=courier.headers)
            assert r.status_code == 200, r.text
        r = await client.post(f"/api/v1/parcels/shipments/{sid}/deliver", headers=courier.headers,
                              data={"recipient_name": "Ravi"},
                              files={"photo": ("pod.png", PNG, "image/png")})
        assert r.status_code == 200, r.text
        assert r.json()["data"]["status"] == "delivered"
        r = await client.get(f"/api/v1/parcels/track/{order['shipment']['tracking_number']}")
        assert r.status_code == 200, r.text
        print(r.json())
