"""Facts from other services: booking assignments, reviews and identity profiles."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from kilat.services.runner import service
from kilat.services.runner.domain import AssignmentStatus
from kilat.services.runner.live import live_of

ENGAGED_STATUSES = frozenset({"accepted", "in_progress", "delivered"})


def _uuid(value: object) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    return uuid.UUID(str(value))


def handlers(runtime) -> dict:
    live = live_of(runtime)

    async def assignment(session: AsyncSession, event: Event, fact: AssignmentStatus,
                         runner: object, *, by_runner: bool = False) -> None:
        booking_id, runner_id = _uuid(event.data.get("booking_id")), _uuid(runner)
        if booking_id is None or runner_id is None:
            return
        await service.record_assignment(session, live, booking_id, runner_id, fact, event.time,
                                        by_runner=by_runner)

    async def on_accepted(session: AsyncSession, event: Event) -> None:
        await assignment(session, event, AssignmentStatus.ACTIVE, event.data.get("runner_id"))

    async def on_completed(session: AsyncSession, event: Event) -> None:
        await assignment(session, event, AssignmentStatus.COMPLETED, event.data.get("runner_id"))

    async def on_cancelled(session: AsyncSession, event: Event) -> None:
        data = event.data
        runner = data.get("runner_id")
        by_runner = ((str(data.get("cancelled_by")) == str(runner)
                      or data.get("cancelled_by_role") == "runner")
                     and data.get("previous_status", "accepted") in ENGAGED_STATUSES)
        await assignment(session, event, AssignmentStatus.CANCELLED, runner, by_runner=by_runner)

    async def on_declined(session: AsyncSession, event: Event) -> None:
        runner = event.data.get("runner_id") or event.data.get("declined_by")
        await assignment(session, event, AssignmentStatus.DECLINED, runner)

    async def on_review(session: AsyncSession, event: Event) -> None:
        data = event.data
        runner_id, review_id = _uuid(data.get("runner_id")), _uuid(data.get("review_id"))
        stars = int(data.get("rating") or 0)
        if runner_id is None or review_id is None or not 1 <= stars <= 5:
            return  # not a review of a runner
        await service.record_review(session, live, review_id, _uuid(data.get("booking_id")),
                                    runner_id, stars, hidden=event.type == "review.hidden")

    async def on_profile(session: AsyncSession, event: Event) -> None:
        user_id = _uuid(event.data.get("user_id"))
        if user_id is not None:
            fields = ("email", "full_name", "phone", "role")
            await service.record_profile(session, user_id,
                                         {k: event.data[k] for k in fields if k in event.data})

    return {
        "booking.accepted": on_accepted,
        "booking.completed": on_completed,
        "booking.cancelled": on_cancelled,
        "booking.declined": on_declined,
        "review.created": on_review,
        "review.hidden": on_review,
        "identity.user_registered": on_profile,
        "identity.profile_updated": on_profile,
    }
