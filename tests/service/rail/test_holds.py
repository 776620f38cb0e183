"""Seat holds under contention: one winner per seat, all or nothing, lapsing on their own."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import datetime, timedelta

from kilat.services.rail.jobs import sweep_lapsed_holds
from tests.service.rail.support import RAIL, rail_service, tomorrow
from tests.support.harness import wait_for
from tests.support.people import person


async def test_a_thousand_simultaneous_holders_of_one_seat_give_exactly_one_hold(infra):
    async with rail_service(infra) as rail:
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[0]["id"]
        people = [rail.passenger() for _ in range(1000)]
        answers = await asyncio.gather(*(rail.hold(p, journey["journey_id"], [seat])
                                         for p in people))
        assert Counter(a.status_code for a in answers) == {201: 1, 409: 999}
        loser = next(a for a in answers if a.status_code == 409).json()
        assert loser["error"] == "seats are taken" and seat in loser["detail"]
        states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
        assert states[seat] == "held"


async def test_overlapping_multi_seat_holds_never_share_a_seat_nor_hold_part_of_a_request(infra):
    async with rail_service(infra) as rail:
        journey = await rail.journey()
        pool = [s["id"] for s in await rail.seats(journey["journey_id"])][:12]
        shuffle = random.Random(7)
        wants = [shuffle.sample(pool, shuffle.randint(1, 4)) for _ in range(200)]
        answers = await asyncio.gather(*(rail.hold(rail.passenger(), journey["journey_id"], seats)
                                         for seats in wants))
        won = [a.json()["data"] for a in answers if a.status_code == 201]
        assert {a.status_code for a in answers} <= {201, 409} and won
        held = [seat for hold in won for seat in hold["seat_ids"]]
        assert len(held) == len(set(held)), "a seat is in two holds"
        for hold, seats in ((a.json()["data"], w) for a, w in zip(answers, wants)
                            if a.status_code == 201):
            assert sorted(hold["seat_ids"]) == sorted(seats), "a partial hold"
        states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
        assert {seat for seat in pool if states[seat] == "held"} == set(held)
        for answer, seats in zip(answers, wants):
            if answer.status_code == 409:
                taken = answer.json()["detail"].removeprefix("taken seat_ids: ").split(",")
                assert set(taken) & set(held) and set(taken) <= set(seats)


async def test_an_expired_hold_frees_its_seats_for_the_next_passenger(infra):
    async with rail_service(infra, hold_seconds=1, sweep_seconds=0.1) as rail:
        journey = await rail.journey()
        seats = [s["id"] for s in await rail.seats(journey["journey_id"])][:2]
        first = await rail.hold(rail.passenger(), journey["journey_id"], seats)
        assert first.status_code == 201
        assert (await rail.hold(rail.passenger(), journey["journey_id"], seats)).status_code == 409

        async def freed():
            states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
            return all(states[s] == "available" for s in seats)

        await wait_for(freed, timeout=5)
        hold = await rail.client.get(f"{RAIL}/holds/{first.json()['data']['id']}",
                                     headers=rail.passenger().headers)
        assert hold.status_code == 404, "another passenger cannot read the hold"
        assert (await rail.hold(rail.passenger(), journey["journey_id"], seats)).status_code == 201


async def test_a_lapsed_hold_is_taken_over_before_the_sweeper_runs(infra):
    async with rail_service(infra, hold_seconds=1, sweep_seconds=3600) as rail:
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[5]["id"]
        assert (await rail.hold(rail.passenger(), journey["journey_id"], [seat])).status_code == 201
        await asyncio.sleep(1.1)
        assert (await rail.hold(rail.passenger(), journey["journey_id"], [seat])).status_code == 201
        assert await sweep_lapsed_holds(rail.runtime) == 1


async def test_only_the_holder_releases_or_extends_and_an_extension_moves_the_one_deadline(infra):
    async with rail_service(infra, hold_max_extensions=1) as rail:
        ana, budi = rail.passenger(), rail.passenger()
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[0]["id"]
        hold = (await rail.hold(ana, journey["journey_id"], [seat])).json()["data"]
        for method, path in (("DELETE", ""), ("POST", "/extend")):
            other = await rail.client.request(method, f"{RAIL}/holds/{hold['id']}{path}",
                                              headers=budi.headers)
            assert other.status_code == 404
        extended = await rail.client.post(f"{RAIL}/holds/{hold['id']}/extend", headers=ana.headers)
        assert extended.status_code == 200
        gained = (datetime.fromisoformat(extended.json()["data"]["expires_at"])
                  - datetime.fromisoformat(hold["expires_at"]))
        assert gained.total_seconds() == 300
        again = await rail.client.post(f"{RAIL}/holds/{hold['id']}/extend", headers=ana.headers)
        assert again.status_code == 409
        released = await rail.client.delete(f"{RAIL}/holds/{hold['id']}", headers=ana.headers)
        assert released.status_code == 204
        states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
        assert states[seat] == "available"


async def test_bad_hold_requests_are_refused_and_change_nothing(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        journey = await rail.journey()
        seats = [s["id"] for s in await rail.seats(journey["journey_id"])]
        other = await rail.journey("DHK", "SYL", train="709")
        foreign = (await rail.seats(other["journey_id"]))[0]["id"]
        cases = [seats[:5], [], [seats[0], seats[0]], [seats[0], foreign]]
        for case in cases:
            response = await rail.hold(ana, journey["journey_id"], case)
            assert response.status_code in (400, 422), (case, response.text)
        missing = await rail.client.post(f"{RAIL}/holds", headers=ana.headers,
                                         json={"journey_id": journey["journey_id"]})
        assert missing.status_code == 400
        owner = await rail.client.post(
            f"{RAIL}/holds", json={"journey_id": journey["journey_id"], "seat_ids": seats[:1]},
            headers=person(rail.infra, "owner").headers)
        assert owner.status_code == 403
        anonymous = await rail.client.post(
            f"{RAIL}/holds", json={"journey_id": journey["journey_id"], "seat_ids": seats[:1]})
        assert anonymous.status_code == 401
        states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
        assert set(states.values()) == {"available"}


async def test_sales_open_ten_days_ahead(infra):
    async with rail_service(infra, days=12) as rail:
        late = await rail.client.get(f"{RAIL}/journeys/search", params={
            "from": "DHK", "to": "CTG", "date": str(tomorrow() + timedelta(days=10))})
        assert late.status_code == 422 and late.json()["detail"] == \
            "sales open 10 days before departure"
        last = await rail.client.get(f"{RAIL}/journeys/search", params={
            "from": "DHK", "to": "CTG", "date": str(tomorrow() + timedelta(days=9))})
        assert last.status_code == 200 and last.json()["data"]
