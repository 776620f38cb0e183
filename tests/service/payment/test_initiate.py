"""POST /payments/initiate: the amount comes from the booking, held in escrow, refused cleanly."""

import uuid

from sqlalchemy import func, select

from kilat.services.payment.models import Payment
from tests.service.payment.support import wait_for


async def payments_in_db(world) -> int:
    async with world.runtime.database.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(Payment))


async def test_initiate_holds_the_booking_price_with_the_fee_split(world):
    owner = world.person("owner")
    booking = await world.book(owner, price=150000)
    response = await world.pay(owner, booking, amount_cents=150000, currency="MYR",
                               customer_email="owner@example.com")
    assert response.status_code == 201
    payment = response.json()["data"]
    assert payment["escrow_status"] == "held"
    assert (payment["amount_cents"], payment["charged_cents"]) == (150000, 150000)
    assert (payment["platform_fee_cents"], payment["runner_payout_cents"]) == (22500, 127500)
    assert payment["stripe_payment_id"].startswith("pi_")
    assert payment["escrow_held_at"] and payment["authorization_expires_at"]
    held = await world.await_events("payment.escrow_held")
    assert held[0]["payment_id"] == payment["id"] and held[0]["owner_id"] == str(owner.user_id)
    assert held[0]["amount_cents"] == 150000 and held[0]["discount_cents"] == 0


async def test_amount_is_optional_and_taken_from_the_booking(world):
    owner = world.person("owner")
    booking = await world.book(owner, price=4423)
    response = await world.pay(owner, booking)
    assert response.status_code == 201 and response.json()["data"]["amount_cents"] == 4423


async def test_a_different_amount_is_refused_and_nothing_is_created(world):
    owner = world.person("owner")
    booking = await world.book(owner, price=4423)
    response = await world.pay(owner, booking, amount_cents=100)
    assert response.status_code == 400
    assert response.json() == {"success": False,
                               "error": "amount_cents does not match the booking price",
                               "detail": "the booking costs 4423 cents"}
    assert await payments_in_db(world) == 0


async def test_a_different_currency_is_refused(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    response = await world.pay(owner, booking, currency="USD")
    assert response.status_code == 400 and response.json()["error"].startswith("currency")


async def test_malformed_bodies_are_400(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    for body in ({"booking_id": "nope"}, {"booking_id": booking, "amount_cents": 0},
                 {"booking_id": booking, "customer_email": "not-an-email"}, {}):
        response = await world.client.post("/api/v1/payments/initiate", json=body,
                                           headers=owner.headers)
        assert response.status_code == 400, body
        assert response.json()["success"] is False
    assert await payments_in_db(world) == 0


async def test_only_the_booking_owner_may_pay(world):
    owner, stranger = world.person("owner"), world.person("owner")
    booking = await world.book(owner)
    assert (await world.pay(stranger, booking)).status_code == 403
    assert (await world.pay(world.person("runner"), booking)).status_code == 403
    missing = await world.client.post("/api/v1/payments/initiate", json={"booking_id": booking})
    assert missing.status_code == 401
    assert await payments_in_db(world) == 0


async def test_a_booking_past_accepted_cannot_be_paid(world):
    owner, runner = world.person("owner"), world.person("runner")
    booking = await world.book(owner)
    await world.accept(booking, runner)
    await world.move(booking, "booking.pet_picked_up", "in_progress")

    async def in_progress():
        response = await world.pay(owner, booking)
        return response if response.status_code == 422 else None

    response = await wait_for(in_progress)
    assert response.json()["error"] == "booking in status 'in_progress' cannot be paid"


async def test_an_accepted_booking_can_be_paid_and_its_runner_is_on_the_payment(world):
    owner, runner = world.person("owner"), world.person("runner")
    booking = await world.book(owner, status="accepted", runner=runner)
    await world.seen(booking, "accepted")
    response = await world.pay(owner, booking)
    assert response.status_code == 201
    assert response.json()["data"]["runner_id"] == str(runner.user_id)


async def test_a_second_initiate_for_the_booking_is_409(world):
    owner = world.person("owner")
    booking = await world.book(owner)
    assert (await world.pay(owner, booking)).status_code == 201
    second = await world.pay(owner, booking)
    assert second.status_code == 409
    assert second.json()["error"] == "payment already exists for this booking"
    assert await payments_in_db(world) == 1


async def test_concurrent_initiates_for_one_booking_hold_once(world):
    import asyncio

    owner = world.person("owner")
    booking = await world.book(owner)
    responses = await asyncio.gather(*[world.pay(owner, booking) for _ in range(5)])
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]


async def test_unknown_booking_is_404(world):
    owner = world.person("owner")
    response = await world.pay(owner, str(uuid.uuid4()))
    assert response.status_code == 404 and response.json()["error"] == "Booking not found"


async def test_a_booking_whose_event_is_in_flight_is_read_from_the_booking_service(world):
    owner = world.person("owner")
    booking = await world.book(owner, announce=False)
    response = await world.pay(owner, booking)
    assert response.status_code == 201
    assert response.json()["data"]["booking_number"] == world.bookings[booking]["booking_number"]


async def test_booking_unknown_everywhere_with_booking_service_down_is_503(world):
    del world.infra.service_apps["booking"]
    owner = world.person("owner")
    response = await world.pay(owner, str(uuid.uuid4()))
    assert response.status_code == 503
    assert response.json()["error"] == "booking is not known yet"
