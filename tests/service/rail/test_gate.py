"""The gate: a signed code is used once; a forged, altered or foreign code is refused online and
offline (``kilat rail verify``)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from kilat.platform.models import utcnow
from kilat.services.rail import qr
from kilat.services.rail.models import Journey, Route, Train
from kilat.services.rail.timetable import DHAKA
from kilat.services.rail.commands import verify_offline
from tests.service.rail.support import RAIL, rail_service
from tests.support.people import person


def _altered(code: str, **changes) -> str:
    prefix, payload, signature = code.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw = json.dumps(fields | changes, sort_keys=True, separators=(",", ":")).encode()
    return ".".join([prefix, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), signature])


async def _ticket_today(rail) -> tuple[dict, list[dict]]:
    """A confirmed booking on a journey departing in half an hour, so its date is today."""
    async with rail.runtime.database.session() as session:
        train = await session.scalar(select(Train).where(Train.number == "702"))
        route = await session.scalar(select(Route).where(Route.code == "CTG-DHK"))
        departure = utcnow() + timedelta(minutes=30)
        day = departure.astimezone(DHAKA).date()
        journey = await session.scalar(select(Journey).where(Journey.train_id == train.id,
                                                             Journey.journey_date == day))
        if journey is None:
            journey = Journey(train_id=train.id, route_id=route.id, journey_date=day,
                              departure_at=departure)
            session.add(journey)
        journey.departure_at = departure
        await session.flush()
        journey_id = str(journey.id)
    ana = rail.passenger()
    booking = await rail.confirmed(ana, seats=2, journey={"journey_id": journey_id})
    tickets = (await rail.client.get(f"{RAIL}/bookings/{booking['id']}/tickets",
                                     headers=ana.headers)).json()["data"]
    return booking, tickets


async def test_a_ticket_passes_the_gate_once_and_a_second_scan_is_refused(infra, tmp_path):
    async with rail_service(infra) as rail:
        booking, tickets = await _ticket_today(rail)
        gate = person(infra, "gate")
        first = await rail.client.post(f"{RAIL}/gate/validate", headers=gate.headers,
                                       json={"qr": tickets[0]["qr"]})
        assert first.status_code == 200, first.text
        body = first.json()["data"]
        assert (body["passenger_name"], body["seat"], body["pnr"]) == (
            tickets[0]["passenger_name"], tickets[0]["seat"], booking["pnr"])
        assert body["ticket"]["status"] == "used"
        second = await rail.client.post(f"{RAIL}/gate/validate", headers=gate.headers,
                                        json={"qr": tickets[0]["qr"]})
        assert second.status_code == 409 and second.json()["error"] == "ticket is used"
        passenger = await rail.client.post(f"{RAIL}/gate/validate",
                                           headers=rail.passenger().headers,
                                           json={"qr": tickets[1]["qr"]})
        assert passenger.status_code == 403


async def test_simultaneous_scans_of_one_ticket_let_one_through(infra):
    async with rail_service(infra) as rail:
        _, tickets = await _ticket_today(rail)
        gate = person(infra, "gate")
        answers = await asyncio.gather(*(rail.client.post(
            f"{RAIL}/gate/validate", headers=gate.headers, json={"qr": tickets[1]["qr"]})
            for _ in range(20)))
        assert Counter(a.status_code for a in answers) == {200: 1, 409: 19}


async def test_forged_altered_and_foreign_codes_are_refused_online_and_offline(infra, tmp_path):
    async with rail_service(infra) as rail:
        _, tickets = await _ticket_today(rail)
        code = tickets[0]["qr"]
        fields = qr.decode(code, rail.runtime.context.signer.public_key)
        other_key = Ed25519PrivateKey.generate()
        bad = {
            "altered name": _altered(code, name="Someone Else"),
            "altered seat": _altered(code, seat="99"),
            "other key": qr.encode(fields, other_key),
            "garbage": "KR1.not-base64!.x",
            "no signature": code.rsplit(".", 1)[0],
            "not a code": "hello",
        }
        gate = person(infra, "gate")
        for label, forged in bad.items():
            response = await rail.client.post(f"{RAIL}/gate/validate", headers=gate.headers,
                                              json={"qr": forged})
            assert response.status_code == 400, (label, response.text)
            assert response.json()["error"] == "invalid ticket code"
        keys = (await rail.client.get(f"{RAIL}/keys")).json()["data"]
        pem = tmp_path / "rail.pub.pem"
        pem.write_text(keys["public_key_pem"])
        assert verify_offline(code, pem)["tid"] == tickets[0]["id"]
        for label, forged in bad.items():
            with pytest.raises(qr.InvalidTicketCode):
                verify_offline(forged, pem)
        statuses = (await rail.client.get(f"{RAIL}/bookings/{tickets[0]['id']}/tickets",
                                          headers=gate.headers))
        assert statuses.status_code == 404


async def test_a_ticket_for_another_day_is_refused_at_the_gate(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        booking = await rail.confirmed(ana, seats=1)
        tickets = (await rail.client.get(f"{RAIL}/bookings/{booking['id']}/tickets",
                                         headers=ana.headers)).json()["data"]
        response = await rail.client.post(f"{RAIL}/gate/validate",
                                          headers=person(infra, "admin").headers,
                                          json={"qr": tickets[0]["qr"]})
        assert response.status_code == 422 and response.json()["error"] == "ticket is not for today"
        again = (await rail.client.get(f"{RAIL}/bookings/{booking['id']}/tickets",
                                       headers=ana.headers)).json()["data"]
        assert again[0]["status"] == "valid"
