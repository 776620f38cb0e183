"""Booking and review facts from other services: busy state, trips, completion rate, rating."""

import uuid

from sqlalchemy import func, select

from kilat.services.runner.models import RunnerAssignment, RunnerReview
from tests.service.runner.support import KLCC, wait_for


def booking_event(runner_id: str, booking_id: str | None = None, **extra) -> dict:
    return {"booking_id": booking_id or str(uuid.uuid4()), "booking_number": "BK-7MC56E",
            "owner_id": str(uuid.uuid4()), "runner_id": runner_id} | extra


async def settled(app, headers, **expected):
    async def check():
        me = await app.me(headers)
        return me if all(me[k] == v for k, v in expected.items()) else None

    return await wait_for(check)


async def test_pings_during_a_job_carry_the_booking_id_until_it_completes(app):
    published = await app.capture_pings()
    headers, runner = await app.online_runner(KLCC)
    booking = booking_event(runner["user_id"], status="accepted")
    await app.emit("booking.accepted", **booking)
    await settled(app, headers, active_booking_id=booking["booking_id"])
    app.clock.advance(5)
    await app.ping(headers, (KLCC[0] + 0.001, KLCC[1]), speed_kmh=30)
    await app.emit("booking.completed", **booking, final_price_cents=4423, currency="MYR")
    await settled(app, headers, active_booking_id=None, total_trips=1)
    app.clock.advance(5)
    await app.ping(headers, (KLCC[0] + 0.002, KLCC[1]), speed_kmh=30)
    assert [p["booking_id"] for p in published] == [booking["booking_id"], None]
    assert await app.nearby_ids(KLCC) == [runner["user_id"]]


async def test_a_completed_booking_counts_once_even_when_the_fact_repeats(app):
    headers, runner = await app.online_runner(KLCC)
    first, second = booking_event(runner["user_id"]), booking_event(runner["user_id"])
    for event in (first, second):
        await app.emit("booking.accepted", **event)
        await app.emit("booking.completed", **event, final_price_cents=1710)
    await app.emit("booking.completed", **first, final_price_cents=1710)  # new event id, same fact
    await app.emit("booking.accepted", **first)  # late: must not reopen the finished job
    await app.emit("review.created", review_id=str(uuid.uuid4()), booking_id=first["booking_id"],
                   runner_id=runner["user_id"], reviewer_id=first["owner_id"], rating=5)
    # the embedded bus hands a consumer its events in publish order: the review comes last
    me = await settled(app, headers, rating=5.0)
    assert (me["total_trips"], me["active_booking_id"]) == (2, None)
    assert await app.nearby_ids(KLCC) == [runner["user_id"]]


async def test_completion_rate_counts_only_cancellations_by_the_runner_after_accepting(app):
    headers, runner = await app.online_runner(KLCC)
    rid = runner["user_id"]
    done, by_runner, by_owner = booking_event(rid), booking_event(rid), booking_event(rid)
    for event in (done, by_runner, by_owner):
        await app.emit("booking.accepted", **event)
    await app.emit("booking.completed", **done, final_price_cents=4423)
    await app.emit("booking.cancelled", **by_runner, cancelled_by=rid, previous_status="accepted")
    await app.emit("booking.cancelled", **by_owner, cancelled_by=by_owner["owner_id"],
                   previous_status="in_progress")
    await settled(app, headers, total_trips=1, completion_rate=0.67, active_booking_id=None)
    assert await app.nearby_ids(KLCC) == [rid]


async def test_a_declined_job_frees_the_runner(app):
    headers, runner = await app.online_runner(KLCC)
    booking = booking_event(runner["user_id"])
    await app.emit("booking.accepted", **booking)
    await settled(app, headers, active_booking_id=booking["booking_id"])
    assert await app.nearby_ids(KLCC) == []
    await app.emit("booking.declined", **{k: v for k, v in booking.items() if k != "runner_id"},
                   declined_by=runner["user_id"], reason="too_far")
    await settled(app, headers, active_booking_id=None, completion_rate=1.0, total_trips=0)
    assert await app.nearby_ids(KLCC) == [runner["user_id"]]


async def test_cancellation_without_a_runner_changes_nobody(app):
    headers, runner = await app.online_runner(KLCC)
    await app.emit("booking.cancelled", **booking_event(None), cancelled_by=str(uuid.uuid4()),
                   previous_status="requested")
    await app.emit("booking.completed", **booking_event(runner["user_id"]), final_price_cents=1)
    me = await settled(app, headers, total_trips=1)
    assert me["completion_rate"] == 1.0


async def test_rating_is_the_mean_of_review_stars_and_a_repeated_review_counts_once(app):
    headers, runner = await app.register()
    review = {"review_id": str(uuid.uuid4()), "booking_id": str(uuid.uuid4()),
              "runner_id": runner["user_id"], "reviewer_id": str(uuid.uuid4()), "rating": 5}
    await app.emit("review.created", **review)
    await app.emit("review.created", **review)
    for stars in (4, 4):
        await app.emit("review.created", **review | {"review_id": str(uuid.uuid4()),
                                                     "rating": stars})
    await app.emit("review.created", **review | {"review_id": str(uuid.uuid4()), "rating": 9})
    await settled(app, headers, rating=4.33)


async def test_facts_that_arrive_before_registration_count_once_registered(app):
    user_id = uuid.uuid4()
    await app.emit("booking.completed", **booking_event(str(user_id)), final_price_cents=1)
    await app.emit("review.created", review_id=str(uuid.uuid4()), booking_id=str(uuid.uuid4()),
                   runner_id=str(user_id), reviewer_id=str(uuid.uuid4()), rating=3)

    async def both_stored():
        async with app.runtime.database.session(write=False) as session:
            reviews = await session.scalar(select(func.count()).select_from(RunnerReview))
            jobs = await session.scalar(select(func.count()).select_from(RunnerAssignment))
            return (reviews, jobs) == (1, 1)

    await wait_for(both_stored)
    _, runner = await app.register(user_id=user_id)
    assert (runner["total_trips"], runner["rating"]) == (1, 3.0)


async def test_a_review_hidden_by_moderation_stops_counting_in_either_order(app):
    headers, runner = await app.register()
    kept, hidden, hidden_first = (str(uuid.uuid4()) for _ in range(3))
    base = {"booking_id": str(uuid.uuid4()), "runner_id": runner["user_id"],
            "reviewer_id": str(uuid.uuid4()), "reviewer_role": "owner"}
    await app.emit("review.created", **base, review_id=kept, rating=5)
    await app.emit("review.created", **base, review_id=hidden, rating=1)
    await settled(app, headers, rating=3.0)
    await app.emit("review.hidden", **base, review_id=hidden, rating=1, reason="abusive")
    await app.emit("review.hidden", **base, review_id=hidden_first, rating=1, reason="spam")
    await app.emit("review.created", **base, review_id=hidden_first, rating=1)
    await app.emit("review.created", **base, review_id=str(uuid.uuid4()), rating=4)
    await settled(app, headers, rating=4.5)


async def test_reviews_of_owners_are_not_runner_ratings(app):
    headers, runner = await app.register()
    await app.emit("review.created", review_id=str(uuid.uuid4()), booking_id=str(uuid.uuid4()),
                   runner_id=None, reviewer_id=runner["user_id"], reviewer_role="runner", rating=1)
    await app.emit("review.created", review_id=str(uuid.uuid4()), booking_id=str(uuid.uuid4()),
                   runner_id=runner["user_id"], reviewer_id=str(uuid.uuid4()), rating=5)
    await settled(app, headers, rating=5.0)
