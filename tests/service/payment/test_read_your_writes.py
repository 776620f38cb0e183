"""Paying for a booking the instant it is created: with the payment consumer paused, no booking
event ever arrives and the booking is read from the booking service with the owner's token."""

import uuid

import pytest

from kilat.services.payment.models import BookingView
from tests.service.payment.support import payment_world
from tests.support.harness import embedded_infra


@pytest.fixture
async def paused(tmp_path):
    async with embedded_infra(tmp_path, service_urls={"booking": "http://127.0.0.1:1"}) as infra, \
            payment_world(infra, consume=False) as world:
        yield world


async def test_a_booking_only_the_booking_service_knows_is_paid_and_remembered(paused):
    owner = paused.person("owner")
    booking = await paused.book(owner, announce=False)
    response = await paused.pay(owner, booking)
    assert response.status_code == 201
    assert response.json()["data"]["escrow_status"] == "held"
    async with paused.runtime.database.session(write=False) as session:
        view = await session.get(BookingView, uuid.UUID(booking))
        assert (view.status, view.price_cents) == ("requested", 4423)


async def test_someone_elses_booking_is_refused_by_the_booking_service(paused):
    booking = await paused.book(paused.person("owner"), announce=False)
    response = await paused.pay(paused.person("owner"), booking)
    assert response.status_code == 403


async def test_a_booking_the_booking_service_does_not_know_is_404(paused):
    response = await paused.pay(paused.person("owner"), str(uuid.uuid4()))
    assert response.status_code == 404 and response.json()["error"] == "Booking not found"


async def test_the_booking_service_down_and_no_event_is_503_after_the_wait(paused):
    del paused.infra.service_apps["booking"]
    booking = await paused.book(paused.person("owner"), announce=False)
    response = await paused.pay(paused.person("owner"), booking)
    assert response.status_code == 503 and response.headers.get("retry-after")
