"""Reviews over HTTP: once per completed booking, by its parties only; ratings; moderation."""

import asyncio
import uuid

import pytest

from kilat.platform.events import Event
from tests.service.review.support import (
    Trip,
    booking_event,
    completed_trip,
    listen,
    review,
    review_service,
)
from tests.support.harness import auth_headers, wait_for
from tests.support.people import person


async def test_owner_reviews_the_runner_of_a_completed_booking_and_review_created_is_published(infra):
    async with review_service(infra) as (runtime, client):
        events = await listen(infra, "review.*")
        trip = await completed_trip(infra, runtime)
        response = await review(client, trip, trip.owner, 5, comment="  Gentle with Milo  ",
                                tags=["Gentle With Pets", "punctual", "punctual"])
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert (data["reviewer_id"], data["reviewee_id"], data["runner_id"]) == (
            str(trip.owner.user_id), str(trip.runner.user_id), str(trip.runner.user_id))
        assert data["reviewer_role"] == "owner" and data["rating"] == 5
        assert data["comment"] == "Gentle with Milo" and data["booking_number"] == "BK-RVW001"
        assert data["tags"] == ["gentle_with_pets", "punctual"]

        [event] = await wait_for(lambda: _of(events, "review.created"))
        assert event.data | {"created_at": None} == {
            "review_id": data["id"], "booking_id": str(trip.booking_id), "booking_number": "BK-RVW001",
            "runner_id": str(trip.runner.user_id), "reviewer_id": str(trip.owner.user_id),
            "reviewee_id": str(trip.runner.user_id), "reviewer_role": "owner", "rating": 5,
            "comment": "Gentle with Milo", "tags": ["gentle_with_pets", "punctual"],
            "created_at": None, "runner_rating": {"average": 5.0, "count": 1}}


async def _of(recorder, type):
    return recorder.of(type)


async def test_second_review_of_the_same_booking_is_409(infra):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        assert (await review(client, trip, trip.owner, 4)).status_code == 201
        again = await review(client, trip, trip.owner, 1)
        assert again.status_code == 409 and again.json()["error"] == "booking already reviewed"
        listed = await client.get(f"/api/v1/reviews/booking/{trip.booking_id}",
                                  headers=trip.owner.headers)
        assert [r["rating"] for r in listed.json()["data"]] == [4]


async def test_concurrent_double_submission_stores_one_review(infra):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        results = await asyncio.gather(*(review(client, trip, trip.owner, 3) for _ in range(3)))
        assert sorted(r.status_code for r in results) == [201, 409, 409]


async def test_runner_reviews_the_owner_without_touching_the_runners_rating(infra):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        response = await review(client, trip, trip.runner, 2, comment="Late at pickup")
        assert response.status_code == 201
        data = response.json()["data"]
        assert (data["reviewer_role"], data["reviewee_id"], data["runner_id"]) == (
            "runner", str(trip.owner.user_id), None)
        summary = await client.get(f"/api/v1/reviews/runner/{trip.runner.user_id}",
                                   headers=trip.owner.headers)
        assert (summary.json()["average"], summary.json()["count"]) == (0.0, 0)
        received = await client.get("/api/v1/reviews/me?direction=received",
                                    headers=trip.owner.headers)
        assert [r["id"] for r in received.json()["data"]] == [data["id"]]


async def test_strangers_and_admins_cannot_review_a_booking(infra):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        for headers in (auth_headers(infra, "owner"), auth_headers(infra, "admin")):
            response = await client.post("/api/v1/reviews", headers=headers, json={
                "booking_id": str(trip.booking_id), "rating": 5})
            assert response.status_code == 403


@pytest.mark.parametrize("status", ["accepted", "in_progress", "delivered", "cancelled"])
async def test_booking_that_is_not_completed_cannot_be_reviewed(infra, status):
    async with review_service(infra) as (runtime, client):
        trip = Trip(uuid.uuid4(), person(infra, "owner"), person(infra, "runner"))
        await booking_event(runtime, f"booking.{status}", trip, status)
        response = await review(client, trip, trip.owner, 5)
        assert response.status_code == 422
        assert response.json()["error"] == "booking is not completed"


async def test_unknown_booking_is_404(infra):
    async with review_service(infra) as (_, client):
        response = await client.post("/api/v1/reviews", headers=auth_headers(infra, "owner"),
                                     json={"booking_id": str(uuid.uuid4()), "rating": 5})
        assert response.status_code == 404 and response.json()["error"] == "Booking not found"


async def test_late_events_never_reopen_a_completed_booking(infra):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        await booking_event(runtime, "booking.accepted", trip, "accepted")
        assert (await review(client, trip, trip.owner, 5)).status_code == 201


async def test_review_window_closes_after_the_configured_days(infra):
    async with review_service(infra, window_days=1) as (runtime, client):
        trip = Trip(uuid.uuid4(), person(infra, "owner"), person(infra, "runner"))
        await booking_event(runtime, "booking.accepted", trip, "accepted")
        event = Event(source="booking", type="booking.completed", time="2020-01-01T00:00:00Z", data={
            "booking_id": str(trip.booking_id), "booking_number": "BK-OLD001",
            "owner_id": str(trip.owner.user_id), "runner_id": str(trip.runner.user_id),
            "status": "completed"})
        await runtime.consumer.handle(event, runtime.consumer.handler_for(event.type))
        response = await review(client, trip, trip.owner, 5)
        assert response.status_code == 422 and response.json()["error"] == "review window closed"


@pytest.mark.parametrize("body", [
    {"rating": 0}, {"rating": 6}, {"rating": "five"}, {"rating": 4.5},
    {"rating": 5, "tags": ["ok", "not a valid tag!"]},
    {"rating": 5, "tags": [f"t{i}" for i in range(11)]},
    {"rating": 5, "comment": "x" * 2001}, {"rating": 5, "stars": 5},
])
async def test_invalid_review_is_400_and_nothing_is_stored(infra, body):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        response = await client.post("/api/v1/reviews", headers=trip.owner.headers,
                                     json={"booking_id": str(trip.booking_id)} | body)
        assert response.status_code == 400 and response.json()["success"] is False
        listed = await client.get(f"/api/v1/reviews/booking/{trip.booking_id}",
                                  headers=trip.owner.headers)
        assert listed.json()["data"] == []


async def test_runner_page_has_average_and_count_of_visible_owner_reviews(infra):
    async with review_service(infra) as (runtime, client):
        runner = person(infra, "runner")
        for stars in (5, 4, 4):
            trip = await completed_trip(infra, runtime, runner=runner)
            assert (await review(client, trip, trip.owner, stars)).status_code == 201
        response = await client.get(f"/api/v1/reviews/runner/{runner.user_id}?limit=2",
                                    headers=auth_headers(infra, "owner"))
        body = response.json()
        assert response.status_code == 200
        assert (body["average"], body["count"]) == (4.33, 3)
        assert body["pagination"] == {"total": 3, "page": 1, "limit": 2, "total_pages": 2}
        assert [r["rating"] for r in body["data"]] == [4, 4]
        summary = await client.get(f"/api/v1/reviews/runner/{runner.user_id}/summary",
                                   headers=auth_headers(infra, "owner"))
        assert summary.json()["data"] == {"runner_id": str(runner.user_id), "average": 4.33,
                                          "count": 3}
        nobody = await client.get(f"/api/v1/reviews/runner/{uuid.uuid4()}",
                                  headers=auth_headers(infra, "owner"))
        assert (nobody.json()["data"], nobody.json()["average"], nobody.json()["count"]) == ([], 0.0, 0)


async def test_booking_reviews_are_for_its_parties_and_admins(infra):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        await review(client, trip, trip.owner, 5)
        await review(client, trip, trip.runner, 4)
        path = f"/api/v1/reviews/booking/{trip.booking_id}"
        for headers in (trip.owner.headers, trip.runner.headers, auth_headers(infra, "admin")):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200 and len(response.json()["data"]) == 2
        assert (await client.get(path, headers=auth_headers(infra, "owner"))).status_code == 403
        missing = await client.get(f"/api/v1/reviews/booking/{uuid.uuid4()}",
                                   headers=trip.owner.headers)
        assert missing.status_code == 404
        assert (await client.get(path)).status_code == 401


async def test_my_reviews_lists_what_i_wrote(infra):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        mine = (await review(client, trip, trip.owner, 5)).json()["data"]
        written = await client.get("/api/v1/reviews/me", headers=trip.owner.headers)
        assert [r["id"] for r in written.json()["data"]] == [mine["id"]]
        assert written.json()["pagination"]["total"] == 1
        received = await client.get("/api/v1/reviews/me?direction=received",
                                    headers=trip.runner.headers)
        assert [r["id"] for r in received.json()["data"]] == [mine["id"]]
        bad = await client.get("/api/v1/reviews/me?direction=sideways", headers=trip.owner.headers)
        assert bad.status_code == 400


async def test_admin_hides_a_review_which_leaves_lists_and_the_rating(infra):
    async with review_service(infra) as (runtime, client):
        events = await listen(infra, "review.hidden")
        runner = person(infra, "runner")
        first = await completed_trip(infra, runtime, runner=runner)
        second = await completed_trip(infra, runtime, runner=runner)
        await review(client, first, first.owner, 5)
        rude = (await review(client, second, second.owner, 1, comment="rude words")).json()["data"]
        admin = auth_headers(infra, "admin")

        forbidden = await client.post(f"/api/v1/admin/reviews/{rude['id']}/hide",
                                      headers=second.owner.headers, json={"reason": "spam"})
        assert forbidden.status_code == 403
        empty = await client.post(f"/api/v1/admin/reviews/{rude['id']}/hide", headers=admin,
                                  json={"reason": ""})
        assert empty.status_code == 400
        hidden = await client.post(f"/api/v1/admin/reviews/{rude['id']}/hide", headers=admin,
                                   json={"reason": "abusive language"})
        assert hidden.status_code == 200 and hidden.json()["data"]["is_hidden"] is True

        page = (await client.get(f"/api/v1/reviews/runner/{runner.user_id}", headers=admin)).json()
        assert (page["average"], page["count"], len(page["data"])) == (5.0, 1, 1)
        [event] = await wait_for(lambda: _of(events, "review.hidden"))
        assert event.data["review_id"] == rude["id"] and event.data["reason"] == "abusive language"
        assert event.data["runner_rating"] == {"average": 5.0, "count": 1}

        again = await client.post(f"/api/v1/admin/reviews/{rude['id']}/hide", headers=admin,
                                  json={"reason": "twice"})
        assert again.status_code == 409
        missing = await client.post(f"/api/v1/admin/reviews/{uuid.uuid4()}/hide", headers=admin,
                                    json={"reason": "x"})
        assert missing.status_code == 404
        listed = await client.get("/api/v1/admin/reviews?hidden=true", headers=admin)
        assert [r["id"] for r in listed.json()["data"]] == [rude["id"]]
        assert (await client.get("/api/v1/admin/reviews", headers=second.owner.headers)).status_code == 403
        stranger = await client.get(f"/api/v1/reviews/{rude['id']}", headers=auth_headers(infra, "owner"))
        author = await client.get(f"/api/v1/reviews/{rude['id']}", headers=second.owner.headers)
        assert (stranger.status_code, author.status_code) == (404, 200)


async def test_completed_booking_arrives_through_the_bus(infra):
    async with review_service(infra) as (_, client):
        owner, runner = person(infra, "owner"), person(infra, "runner")
        booking_id = uuid.uuid4()
        await infra.bus.publish(Event(source="booking", type="booking.completed", data={
            "booking_id": str(booking_id), "booking_number": "BK-BUS001",
            "owner_id": str(owner.user_id), "runner_id": str(runner.user_id),
            "status": "completed", "final_price_cents": 4423}))

        async def reviewed():
            response = await client.post("/api/v1/reviews", headers=owner.headers,
                                         json={"booking_id": str(booking_id), "rating": 5})
            return response if response.status_code == 201 else None

        assert (await wait_for(reviewed)).json()["data"]["booking_number"] == "BK-BUS001"


async def test_malformed_ids_are_400_and_anonymous_callers_401(infra):
    async with review_service(infra) as (_, client):
        owner = auth_headers(infra, "owner")
        for path in ("/api/v1/reviews/runner/nope", "/api/v1/reviews/booking/nope",
                     "/api/v1/reviews/runner/nope/summary", "/api/v1/reviews/nope"):
            assert (await client.get(path, headers=owner)).status_code == 400, path
        runner = uuid.uuid4()
        for path in (f"/api/v1/reviews/runner/{runner}", f"/api/v1/reviews/runner/{runner}/summary",
                     "/api/v1/reviews/me", f"/api/v1/reviews/{uuid.uuid4()}"):
            assert (await client.get(path)).status_code == 401, path
        missing = await client.get(f"/api/v1/reviews/{uuid.uuid4()}", headers=owner)
        assert missing.status_code == 404 and missing.json()["error"] == "Review not found"
