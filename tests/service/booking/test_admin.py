"""Admin views: every booking with filters, and counts per status."""

import pytest

from tests.service.booking.support import booking_at, create_booking


async def test_admin_lists_every_booking_newest_first(client, people):
    first = await create_booking(client, people.owner)
    second = await create_booking(client, people.other_owner)
    response = await client.get("/api/v1/admin/bookings", headers=people.admin.headers)
    assert response.status_code == 200
    assert [b["id"] for b in response.json()["data"]] == [second["id"], first["id"]]
    assert response.json()["pagination"]["total"] == 2


async def test_admin_filters_by_status_owner_runner_and_creation_time(client, people):
    mine = await booking_at(client, people, "accepted")
    other = await create_booking(client, people.other_owner)

    async def ids(query: str) -> list[str]:
        response = await client.get(f"/api/v1/admin/bookings?{query}", headers=people.admin.headers)
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["data"]]

    assert await ids("status=accepted") == [mine["id"]]
    assert await ids("status=active,requested") == [other["id"], mine["id"]]
    assert await ids(f"owner_id={people.other_owner.id}") == [other["id"]]
    assert await ids(f"runner_id={people.runner.id}") == [mine["id"]]
    assert await ids(f"created_from={other['created_at']}") == [other["id"]]
    assert await ids(f"created_to={mine['created_at']}") == [mine["id"]]
    assert await ids("created_from=2000-01-01T00:00:00&created_to=2000-01-02T00:00:00") == []


@pytest.mark.parametrize("query", ["status=nope", "owner_id=123", "created_from=yesterday"])
async def test_admin_filter_errors_are_400(client, people, query):
    response = await client.get(f"/api/v1/admin/bookings?{query}", headers=people.admin.headers)
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/admin/bookings", "/api/v1/admin/stats/bookings"])
async def test_admin_views_are_for_admins_only(client, people, path):
    assert (await client.get(path, headers=people.owner.headers)).status_code == 403
    assert (await client.get(path, headers=people.runner.headers)).status_code == 403
    assert (await client.get(path)).status_code == 401


async def test_stats_count_bookings_per_status_with_zeros(client, people):
    await booking_at(client, people, "requested")
    await booking_at(client, people, "requested")
    await booking_at(client, people, "completed")
    await booking_at(client, people, "cancelled")
    response = await client.get("/api/v1/admin/stats/bookings", headers=people.admin.headers)
    assert response.json()["data"] == {
        "total_bookings": 4,
        "by_status": {"requested": 2, "accepted": 0, "in_progress": 0, "delivered": 0,
                      "completed": 1, "cancelled": 1}}


async def test_out_of_range_paging_falls_back_to_defaults_and_huge_pages_are_empty(client,
                                                                                   people):
    await create_booking(client, people.owner)
    fallback = await client.get("/api/v1/admin/bookings?page=0&limit=1000",
                                headers=people.admin.headers)
    assert fallback.json()["pagination"] == {"total": 1, "page": 1, "limit": 20, "total_pages": 1}
    huge = await client.get(f"/api/v1/admin/bookings?page={10**30}", headers=people.admin.headers)
    assert huge.status_code == 200 and huge.json()["data"] == []
