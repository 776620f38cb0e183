"""Only the payment's owner, its runner or an admin may read it."""

import uuid


async def paid_booking(world):
    owner, runner = world.person("owner"), world.person("runner")
    booking = await world.book(owner)
    payment = (await world.pay(owner, booking)).json()["data"]
    await world.accept(booking, runner)
    await world.seen(booking, "accepted")
    return owner, runner, booking, payment


async def test_owner_runner_and_admin_read_the_payment(world):
    owner, runner, booking, payment = await paid_booking(world)
    for person in (owner, runner, world.admin):
        by_id = await world.client.get(f"/api/v1/payments/{payment['id']}", headers=person.headers)
        by_booking = await world.client.get(f"/api/v1/payments/booking/{booking}",
                                            headers=person.headers)
        assert by_id.status_code == by_booking.status_code == 200
        assert by_booking.json()["data"]["id"] == payment["id"]


async def test_anyone_else_gets_403_and_no_token_401(world):
    _, _, booking, payment = await paid_booking(world)
    for person in (world.person("owner"), world.person("runner")):
        assert (await world.client.get(f"/api/v1/payments/{payment['id']}",
                                       headers=person.headers)).status_code == 403
        assert (await world.client.get(f"/api/v1/payments/booking/{booking}",
                                       headers=person.headers)).status_code == 403
    assert (await world.client.get(f"/api/v1/payments/{payment['id']}")).status_code == 401


async def test_unknown_payment_and_unpaid_booking_are_404(world):
    owner = world.person("owner")
    for url in (f"/api/v1/payments/{uuid.uuid4()}", f"/api/v1/payments/booking/{uuid.uuid4()}"):
        response = await world.client.get(url, headers=owner.headers)
        assert response.status_code == 404 and response.json()["success"] is False


async def test_payment_list_shows_only_the_callers_payments(world):
    owner, runner, _, payment = await paid_booking(world)
    await paid_booking(world)

    async def listed(person):
        response = await world.client.get("/api/v1/payments", headers=person.headers)
        return [p["id"] for p in response.json()["data"]]

    assert await listed(owner) == [payment["id"]]
    assert await listed(runner) == [payment["id"]]
    assert len(await listed(world.admin)) == 2
