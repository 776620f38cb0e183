"""A booking from hold to tickets, the OTP's limits, payment answers, cancellation and refunds."""

from __future__ import annotations

import asyncio
from datetime import datetime

from kilat.services.rail.domain import refund_for
from tests.service.rail.support import RAIL, rail_service
from tests.support.harness import wait_for
from tests.support.people import person, settle


async def test_search_lists_journeys_with_seats_and_fares_per_class(infra):
    async with rail_service(infra) as rail:
        journey = await rail.journey("DHK", "CTG")
        assert journey["from_code"] == "DHK" and journey["to_code"] == "CTG"
        assert journey["currency"] == "BDT"
        classes = {c["travel_class"]: c for c in journey["classes"]}
        assert classes["snigdha"] == {"travel_class": "snigdha", "fare": 82_800,
                                      "available_seats": 120, "total_seats": 120}
        assert classes["shovan_chair"]["fare"] == 40_500
        assert sum(c["total_seats"] for c in journey["classes"]) >= 100


async def test_a_hold_shows_in_the_seat_map_and_the_cached_search_at_once(infra):
    async with rail_service(infra) as rail:
        journey = await rail.journey()
        seats = await rail.seats(journey["journey_id"])
        chosen = [s["id"] for s in seats if s["coach"] == "KA"][:2]
        response = await rail.hold(rail.passenger(), journey["journey_id"], chosen)
        assert response.status_code == 201, response.text
        states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
        assert [states[s] for s in chosen] == ["held", "held"]
        again = await rail.journey()
        snigdha = next(c for c in again["classes"] if c["travel_class"] == "snigdha")
        assert snigdha["available_seats"] == 118


async def test_passenger_books_verifies_pays_and_gets_one_signed_ticket_each(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        journey = await rail.journey()
        seats = [s for s in await rail.seats(journey["journey_id"]) if s["coach"] == "GA"][:2]
        held = await rail.hold(ana, journey["journey_id"], [s["id"] for s in seats])
        hold = held.json()["data"]
        booking = await rail.book(ana, hold, ["Ana", "Budi"])
        assert booking["status"] == "pending_otp"
        assert len(booking["pnr"]) == 10 and booking["booking_reference"].startswith("BK")
        assert booking["total_fare"] == 2 * 40_500 and booking["currency"] == "BDT"
        assert [line["fare"] for line in booking["lines"]] == [40_500, 40_500]
        early = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/pay", headers=ana.headers)
        assert early.status_code == 409
        assert (await rail.verified(ana, booking))["status"] == "pending_payment"
        paying = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/pay", headers=ana.headers)
        assert paying.status_code == 202 and paying.json()["data"]["status"] == "payment_pending"
        charge = await rail.charge_of(booking["id"])
        assert (charge["amount"], charge["currency"], charge["payer_id"], charge["payee_id"]) == (
            81_000, "BDT", ana.id, None)
        await settle(rail.runtime)
        await rail.capture(booking["id"])
        done = await rail.wait_status(ana, booking["id"], "confirmed")
        assert {line["status"] for line in done["lines"]} == {"confirmed"}
        tickets = (await rail.client.get(f"{RAIL}/bookings/{booking['id']}/tickets",
                                         headers=ana.headers)).json()["data"]
        assert sorted(t["passenger_name"] for t in tickets) == ["Ana", "Budi"]
        assert all(t["status"] == "valid" and t["qr"].startswith("KR1.") for t in tickets)
        png = await rail.client.get(f"{RAIL}/tickets/{tickets[0]['id']}/qr.png",
                                    headers=ana.headers)
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        pdf = await rail.client.get(f"{RAIL}/tickets/{tickets[0]['id']}/pdf", headers=ana.headers)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        other = await rail.client.get(f"{RAIL}/tickets/{tickets[0]['id']}/pdf",
                                      headers=rail.passenger().headers)
        assert other.status_code == 404
        states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
        assert {states[s["id"]] for s in seats} == {"booked"}
        mine = (await rail.client.get(f"{RAIL}/bookings", headers=ana.headers)).json()
        assert [b["id"] for b in mine["data"]] == [booking["id"]]


async def test_wrong_codes_are_counted_and_capped_even_for_the_right_code_afterwards(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[0]["id"]
        hold = (await rail.hold(ana, journey["journey_id"], [seat])).json()["data"]
        booking = await rail.book(ana, hold)
        code = await rail.code(booking["id"])
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        answers = []
        for _ in range(5):
            answers.append((await rail.client.post(f"{RAIL}/bookings/{booking['id']}/verify",
                                                   headers=ana.headers, json={"code": wrong})))
        assert [a.status_code for a in answers] == [400] * 5
        assert answers[-1].json()["detail"] == "0 attempts left"
        right = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/verify",
                                       headers=ana.headers, json={"code": code})
        assert right.status_code == 429
        assert (await rail.get(ana, booking["id"]))["status"] == "pending_otp"


async def test_a_declined_charge_returns_the_booking_to_payment_with_the_reason(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[0]["id"]
        hold = (await rail.hold(ana, journey["journey_id"], [seat])).json()["data"]
        booking = await rail.book(ana, hold)
        await rail.verified(ana, booking)
        await rail.client.post(f"{RAIL}/bookings/{booking['id']}/pay", headers=ana.headers)
        await settle(rail.runtime)
        await rail.decline(booking["id"], "insufficient funds")
        back = await rail.wait_status(ana, booking["id"], "pending_payment")
        assert back["failure_reason"] == "insufficient funds"
        await rail.client.post(f"{RAIL}/bookings/{booking['id']}/pay", headers=ana.headers)
        charges = [e for e in await rail.events("rail.charge_requested")
                   if e["reference_id"] == booking["id"]]
        assert len(charges) == 2 and charges[0]["charge_id"] != charges[1]["charge_id"]


async def test_cancelling_a_paid_booking_refunds_by_the_table_and_frees_the_seats(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        booking = await rail.confirmed(ana, seats=2)
        response = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/cancel",
                                          headers=ana.headers, json={"reason": "plans changed"})
        assert response.status_code == 200, response.text
        cancelled = response.json()["data"]
        departure = datetime.fromisoformat(booking["departure_at"])
        expected = refund_for(booking["total_fare"], departure, datetime.now().astimezone(), 5000)
        assert cancelled["status"] == "cancelled"
        assert (cancelled["refund_amount"], cancelled["refund_fee"]) == (
            expected.amount, expected.fee)
        refund = [e for e in await rail.events("rail.refund_requested")
                  if e["reference_id"] == booking["id"]]
        assert [r["amount"] for r in refund] == [expected.amount]
        tickets = (await rail.client.get(f"{RAIL}/bookings/{booking['id']}/tickets",
                                         headers=ana.headers)).json()["data"]
        assert {t["status"] for t in tickets} == {"cancelled"}
        states = {s["id"]: s["state"] for s in await rail.seats(booking["journey_id"])}
        assert {states[line["seat_id"]] for line in booking["lines"]} == {"available"}
        again = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/cancel",
                                       headers=ana.headers)
        assert again.status_code == 409
        await settle(rail.runtime)
        await rail.refund_answer(booking["id"], expected.amount)
        refunded = await rail.wait_status(ana, booking["id"], "cancelled")
        assert refunded["status"] == "cancelled"


async def test_only_the_owner_or_an_admin_sees_a_booking(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[0]["id"]
        hold = (await rail.hold(ana, journey["journey_id"], [seat])).json()["data"]
        booking = await rail.book(ana, hold)
        stranger = await rail.client.get(f"{RAIL}/bookings/{booking['id']}",
                                         headers=rail.passenger().headers)
        assert stranger.status_code == 404
        admin = person(infra, "admin")
        assert (await rail.client.get(f"{RAIL}/bookings/{booking['id']}",
                                      headers=admin.headers)).status_code == 200


async def test_a_capture_after_the_seats_were_taken_fails_the_booking_and_refunds_it_all(infra):
    async with rail_service(infra, hold_seconds=1, payment_window_seconds=1,
                            sweep_seconds=3600) as rail:
        ana, budi = rail.passenger(), rail.passenger()
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[3]["id"]
        hold = (await rail.hold(ana, journey["journey_id"], [seat])).json()["data"]
        booking = await rail.book(ana, hold)
        await rail.verified(ana, booking)
        assert (await rail.client.post(f"{RAIL}/bookings/{booking['id']}/pay",
                                       headers=ana.headers)).status_code == 202
        await asyncio.sleep(1.2)
        assert (await rail.hold(budi, journey["journey_id"], [seat])).status_code == 201
        await settle(rail.runtime)
        await rail.capture(booking["id"])
        failed = await rail.wait_status(ana, booking["id"], "failed")
        assert failed["refund_amount"] == booking["total_fare"]
        refunds = [e for e in await rail.events("rail.refund_requested")
                   if e["reference_id"] == booking["id"]]
        assert [r["amount"] for r in refunds] == [booking["total_fare"]]
        states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
        assert states[seat] == "held", "the seat stays with the passenger who holds it now"


async def test_a_refund_the_payment_service_could_not_make_is_shown_on_the_booking(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        booking = await rail.confirmed(ana, seats=1)
        await rail.client.post(f"{RAIL}/bookings/{booking['id']}/cancel", headers=ana.headers)
        await settle(rail.runtime)
        await rail.refund_failure(booking["id"], "card closed")

        async def marked():
            found = await rail.get(ana, booking["id"])
            return found if found["refund_status"] == "failed" else None

        failed = await wait_for(marked, timeout=10)
        assert failed["failure_reason"] == "refund failed: card closed"
        assert failed["status"] == "cancelled"


async def test_a_repeated_pay_with_its_idempotency_key_replays_and_charges_once(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[7]["id"]
        hold = (await rail.hold(ana, journey["journey_id"], [seat])).json()["data"]
        booking = await rail.book(ana, hold)
        await rail.verified(ana, booking)
        headers = ana.headers | {"Idempotency-Key": "pay-once"}
        first = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/pay", headers=headers)
        again = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/pay", headers=headers)
        plain = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/pay", headers=ana.headers)
        assert first.status_code == again.status_code == plain.status_code == 202
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == first.json()
        charges = [e for e in await rail.events("rail.charge_requested")
                   if e["reference_id"] == booking["id"]]
        assert len(charges) == 1
