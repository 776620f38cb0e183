"""Reading a trip and its route: only the owner, the runner or an admin; clear 4xx otherwise."""

import uuid

from kilat.services.tracking import descriptor
from tests.service.tracking.support import Trip, deliver, live, path
from tests.support.harness import auth_headers, running_service


async def started_trip(runtime, infra, pings: int = 0) -> Trip:
    trip = Trip(infra)
    await deliver(runtime, trip.accepted())
    for lat, lng, at in path(pings):
        await runtime.bus.publish_fast("runner.location_update", trip.ping(lat, lng, at))
    await live(runtime).drain_pings()
    await live(runtime).writer.flush()
    return trip


async def test_owner_runner_and_admin_read_the_trip_and_a_stranger_gets_403(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await started_trip(runtime, infra)
        url = f"/api/v1/tracking/{trip.booking_id}"
        for who in ("owner", "runner", "admin"):
            assert (await client.get(url, headers=trip.headers(who))).status_code == 200
        stranger = await client.get(url, headers=auth_headers(infra, "runner"))
        assert stranger.status_code == 403
        assert stranger.json() == {"success": False, "error": "you are not a party to this booking",
                                   "detail": ""}


async def test_reads_need_a_token_and_a_valid_booking_id(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await started_trip(runtime, infra)
        assert (await client.get(f"/api/v1/tracking/{trip.booking_id}")).status_code == 401
        bad = await client.get("/api/v1/tracking/not-a-uuid", headers=trip.headers("owner"))
        assert bad.status_code == 400 and bad.json()["success"] is False
        missing = await client.get(f"/api/v1/tracking/{uuid.uuid4()}", headers=trip.headers("owner"))
        assert missing.status_code == 404 and missing.json()["error"] == "tracking not found"


async def test_trip_lists_the_last_waypoints_oldest_first_with_the_latest_position(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await started_trip(runtime, infra, pings=6)
        body = (await client.get(f"/api/v1/tracking/{trip.booking_id}?waypoints=4",
                                 headers=trip.headers("owner"))).json()["data"]
        points = path(6)
        assert body["waypoint_count"] == 6
        assert [w["latitude"] for w in body["waypoints"]] == [p[0] for p in points[2:]]
        assert body["latest_position"]["latitude"] == points[-1][0]
        assert body["total_distance_km"] == 0.25
        assert {"id", "longitude", "speed_kmh", "heading_degrees", "recorded_at"} <= set(body["waypoints"][0])


async def test_out_of_range_waypoint_limit_is_400(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await started_trip(runtime, infra)
        for value in ("0", "5001", "many"):
            response = await client.get(f"/api/v1/tracking/{trip.booking_id}?waypoints={value}",
                                        headers=trip.headers("owner"))
            assert response.status_code == 400, value


async def test_route_is_a_geojson_linestring_of_longitude_latitude_pairs(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await started_trip(runtime, infra, pings=3)
        response = await client.get(f"/api/v1/tracking/{trip.booking_id}/route",
                                    headers=trip.headers("runner"))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/geo+json"
        assert response.json() == {"type": "LineString",
                                   "coordinates": [[lng, lat] for lat, lng, _ in path(3)]}


async def test_route_checks_membership_like_the_trip(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await started_trip(runtime, infra, pings=2)
        url = f"/api/v1/tracking/{trip.booking_id}/route"
        assert (await client.get(url, headers=auth_headers(infra, "owner"))).status_code == 403
        assert (await client.get(url)).status_code == 401
        missing = await client.get(f"/api/v1/tracking/{uuid.uuid4()}/route", headers=trip.headers("admin"))
        assert missing.status_code == 404 and missing.json()["success"] is False


async def test_openapi_declares_envelopes_errors_and_the_geojson_media_type(infra):
    async with running_service(descriptor, infra) as (_runtime, client):
        spec = (await client.get("/openapi.json")).json()
        route = spec["paths"]["/api/v1/tracking/{booking_id}/route"]["get"]["responses"]
        assert "application/geo+json" in route["200"]["content"]
        assert {"401", "403", "404"} <= set(route)
        trip = spec["paths"]["/api/v1/tracking/{booking_id}"]["get"]["responses"]["200"]
        assert "Envelope" in str(trip["content"]["application/json"]["schema"])
