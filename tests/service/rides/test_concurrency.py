"""Races settled in the database: many drivers accept one request, one driver accepts two
requests, at the same moment; exactly one match each time."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from kilat.services.rides.models import Match, Offer
from tests.service.rides.support import (
    accept,
    ask_ride,
    body,
    driver_at,
    north,
    offers_of,
    recorded,
    rides_service,
)
from tests.support.harness import wait_for
from tests.support.people import person


async def active_matches(runtime) -> int:
    async with runtime.database.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(Match).where(
            Match.active.is_(True)))


async def twenty_drivers_race_for_one_request(runtime, client, infra) -> None:
    drivers = [await driver_at(client, infra, 40 * i + 10) for i in range(20)]
    request = await ask_ride(client, person(infra, "passenger"))
    offers = [(await offers_of(client, d))[0] for d in drivers]
    answers = await asyncio.gather(*(accept(client, d, o["id"]) for d, o in zip(drivers, offers)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 19, [a.text for a in answers if a.status_code not in (200, 409)]
    winner = next(d for d, a in zip(drivers, answers) if a.status_code == 200)
    shown = body(await client.get(f"/api/v1/rides/requests/{request['id']}",
                                  headers=winner.headers))
    assert shown["driver"]["user_id"] == winner.id
    assert await active_matches(runtime) == 1
    assert len(await recorded(runtime, "rides.driver_found")) == 1


async def one_driver_races_for_two_requests(runtime, client, infra) -> None:
    driver = await driver_at(client, infra, 100)
    await ask_ride(client, person(infra, "passenger"))
    await ask_ride(client, person(infra, "passenger"), pickup=north(200))
    offers = await offers_of(client, driver)
    assert len(offers) == 2
    answers = await asyncio.gather(*(accept(client, driver, o["id"]) for o in offers))
    assert sorted(a.status_code for a in answers) == [200, 409]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["error"] in ("you already have an active match", "offer no longer pending")
    assert await active_matches(runtime) == 1
    # the offer the driver lost is withdrawn at once, so that request searches on
    lost = next(o for o, a in zip(offers, answers) if a.status_code == 409)
    await wait_for(lambda: _status(runtime, lost["id"]), timeout=5)
    assert await _status(runtime, lost["id"]) == "withdrawn"


async def _status(runtime, offer_id: str) -> str | None:
    async with runtime.database.session(write=False) as session:
        status = await session.scalar(select(Offer.status).where(Offer.id == uuid.UUID(offer_id)))
    return None if status == "pending" else status


async def test_twenty_drivers_accept_one_request_at_once_and_one_wins(infra):
    async with rides_service(infra, offer_batch=20) as (runtime, client):
        await twenty_drivers_race_for_one_request(runtime, client, infra)


async def test_a_driver_offered_two_requests_accepts_both_at_once_and_gets_one(infra):
    async with rides_service(infra) as (runtime, client):
        await one_driver_races_for_two_requests(runtime, client, infra)
