"""daily_stats after a scripted day, kept from the rail service's own events, each fact once."""

from __future__ import annotations

from datetime import datetime

from kilat.platform.events import Event
from kilat.services.rail.timetable import DHAKA
from tests.service.rail.support import RAIL, rail_service
from tests.support.harness import wait_for
from tests.support.people import person, settle


async def test_a_scripted_day_adds_up_and_a_repeated_fact_counts_once(infra):
    async with rail_service(infra, hold_seconds=2, sweep_seconds=0.1) as rail:
        ana, budi = rail.passenger(), rail.passenger()
        first = await rail.confirmed(ana, seats=2)
        journey = await rail.journey()
        seat = next(s["id"] for s in await rail.seats(journey["journey_id"])
                    if s["state"] == "available")
        hold = (await rail.hold(ana, journey["journey_id"], [seat])).json()["data"]
        lapsed = await rail.book(ana, hold)
        await rail.wait_status(ana, lapsed["id"], "expired")
        second = await rail.confirmed(budi, seats=1)
        cancelled = (await rail.client.post(f"{RAIL}/bookings/{second['id']}/cancel",
                                            headers=budi.headers)).json()["data"]
        await settle(rail.runtime)
        await rail.refund_answer(second["id"], cancelled["refund_amount"])
        await settle(rail.runtime)
        confirmed = [e for e in await rail.events("rail.booking_confirmed")
                     if e["booking_id"] == first["id"]][0]
        await rail.infra.bus.publish(Event(source="rail", type="rail.booking_confirmed",
                                           subject=first["id"], data=confirmed))
        today = datetime.now(DHAKA).date()
        expected = {"stat_date": str(today), "total_bookings": 3, "successful_bookings": 2,
                    "failed_bookings": 1, "total_passengers": 3, "unique_users": 2,
                    "total_revenue": first["total_fare"] + second["total_fare"]
                    - cancelled["refund_amount"]}
        admin = person(infra, "admin")

        async def counted():
            response = await rail.client.get(f"{RAIL}/admin/stats", headers=admin.headers,
                                             params={"from": str(today), "to": str(today)})
            rows = response.json()["data"]
            return rows if rows == [expected] else None

        await wait_for(counted, timeout=10)
        assert cancelled["refund_amount"] > 0
        forbidden = await rail.client.get(f"{RAIL}/admin/stats", headers=ana.headers,
                                          params={"from": str(today), "to": str(today)})
        assert forbidden.status_code == 403
        backwards = await rail.client.get(f"{RAIL}/admin/stats", headers=admin.headers,
                                          params={"from": str(today), "to": "2020-01-01"})
        assert backwards.status_code == 400
