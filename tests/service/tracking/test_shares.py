"""Share links: a read-only view of one trip without login, until it expires or is revoked."""

import re
import uuid
from datetime import timedelta

from sqlalchemy import update

from kilat.services.tracking import descriptor
from kilat.services.tracking.models import SharedTrip
from tests.service.tracking.support import Trip, deliver, live, now, path, recorded
from tests.support.harness import auth_headers, running_service


async def trip_with_route(runtime, infra) -> Trip:
    trip = Trip(infra)
    await deliver(runtime, trip.accepted())
    for lat, lng, at in path(3):
        await runtime.bus.publish_fast("runner.location_update", trip.ping(lat, lng, at))
    await live(runtime).drain_pings()
    await live(runtime).writer.flush()
    return trip


async def share(client, trip: Trip, who: str = "owner", **body):
    return await client.post(f"/api/v1/tracking/{trip.booking_id}/share", json=body or None,
                             headers=trip.headers(who))


async def test_owner_creates_a_24_hour_link_that_opens_without_login(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await trip_with_route(runtime, infra)
        response = await share(client, trip)
        assert response.status_code == 201
        link = response.json()["data"]
        assert re.fullmatch(r"[0-9a-f]{32}", link["share_token"])
        assert link["share_url"] == f"/api/v1/tracking/shared/{link['share_token']}"
        assert link["ws_url"] == f"/ws/tracking/{trip.booking_id}?share={link['share_token']}"
        assert link["status"] == "valid"
        lifetime = timedelta(hours=24)
        from datetime import datetime
        expires = datetime.fromisoformat(link["expires_at"])
        assert lifetime - timedelta(minutes=1) < expires - now() <= lifetime

        public = await client.get(link["share_url"])
        assert public.status_code == 200
        view = public.json()["data"]
        assert view["booking_id"] == str(trip.booking_id) and view["status"] == "active"
        assert [w["latitude"] for w in view["waypoints"]] == [p[0] for p in path(3)]
        assert "runner_id" not in view and "owner_id" not in view
        route = await client.get(f"{link['share_url']}/route")
        assert route.headers["content-type"] == "application/geo+json"
        assert len(route.json()["coordinates"]) == 3
        [event] = await recorded(runtime, "tracking.share_created")
        assert event["share_id"] == link["id"] and "share_token" not in event


async def test_lifetime_is_configurable_per_link_within_the_maximum(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await trip_with_route(runtime, infra)
        short = await share(client, trip, expires_in_hours=2)
        assert short.status_code == 201
        too_long = await share(client, trip, expires_in_hours=24 * 8)
        assert too_long.status_code == 400 and "expires_in_hours" in too_long.json()["error"]
        assert (await share(client, trip, expires_in_hours=-1)).status_code == 400


async def test_runner_and_admin_may_share_and_a_stranger_may_not(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await trip_with_route(runtime, infra)
        assert (await share(client, trip, "runner")).status_code == 201
        assert (await share(client, trip, "admin")).status_code == 201
        assert (await share(client, trip, "stranger")).status_code == 403
        missing = await client.post(f"/api/v1/tracking/{uuid.uuid4()}/share",
                                    headers=trip.headers("owner"))
        assert missing.status_code == 404


async def test_an_expired_link_stops_working(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await trip_with_route(runtime, infra)
        link = (await share(client, trip)).json()["data"]
        async with runtime.database.session() as session:
            await session.execute(update(SharedTrip).where(SharedTrip.id == uuid.UUID(link["id"]))
                                  .values(expires_at=now() - timedelta(seconds=1)))
        response = await client.get(link["share_url"])
        assert response.status_code == 404
        assert response.json() == {"success": False, "error": "share link has expired", "detail": ""}


async def test_a_revoked_link_stops_working_and_revoking_again_is_harmless(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await trip_with_route(runtime, infra)
        link = (await share(client, trip)).json()["data"]
        url = f"/api/v1/tracking/{trip.booking_id}/shares/{link['id']}"
        revoked = await client.delete(url, headers=trip.headers("owner"))
        assert revoked.status_code == 200 and revoked.json()["data"]["status"] == "revoked"
        assert (await client.delete(url, headers=trip.headers("owner"))).status_code == 200
        response = await client.get(link["share_url"])
        assert response.status_code == 404 and response.json()["error"] == "share link has been revoked"


async def test_only_the_owner_an_admin_or_the_creator_revokes(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await trip_with_route(runtime, infra)
        owners = (await share(client, trip)).json()["data"]
        runners = (await share(client, trip, "runner")).json()["data"]
        base = f"/api/v1/tracking/{trip.booking_id}/shares"

        async def revoke(share_id, headers) -> int:
            return (await client.delete(f"{base}/{share_id}", headers=headers)).status_code

        assert await revoke(owners["id"], trip.headers("runner")) == 403
        assert await revoke(owners["id"], auth_headers(infra, "owner")) == 403
        assert await revoke(runners["id"], trip.headers("runner")) == 200
        assert await revoke(owners["id"], trip.headers("admin")) == 200
        assert await revoke(uuid.uuid4(), trip.headers("owner")) == 404


async def test_links_are_listed_without_their_tokens(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await trip_with_route(runtime, infra)
        await share(client, trip)
        await share(client, trip, "runner")
        listed = await client.get(f"/api/v1/tracking/{trip.booking_id}/shares", headers=trip.headers("owner"))
        links = listed.json()["data"]
        assert len(links) == 2 and all("share_token" not in link for link in links)
        stranger = await client.get(f"/api/v1/tracking/{trip.booking_id}/shares",
                                    headers=auth_headers(infra, "owner"))
        assert stranger.status_code == 403


async def test_unknown_or_malformed_tokens_are_404(infra):
    async with running_service(descriptor, infra) as (_runtime, client):
        for token in ("0" * 32, "short", "Z" * 32):
            response = await client.get(f"/api/v1/tracking/shared/{token}")
            assert response.status_code == 404
            assert response.json()["error"] == "share link not found"


async def test_too_many_live_links_is_409(infra, monkeypatch):
    monkeypatch.setenv("KILAT_TRACKING_MAX_ACTIVE_SHARES", "2")
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await trip_with_route(runtime, infra)
        assert (await share(client, trip)).status_code == 201
        assert (await share(client, trip)).status_code == 201
        assert (await share(client, trip)).status_code == 409
