"""Facts from other services: booking assignments, reviews and identity profiles."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.booking import (
    BookingAccepted,
    BookingCancelled,
    BookingCompleted,
    BookingDeclined,
    BookingFact,
)
from kilat.contracts.identity import Contact, ProfileUpdated, UserRegistered
from kilat.contracts.review import ReviewCreated, ReviewFact, ReviewHidden
from kilat.platform.events import Event
from kilat.services.runner import service
from kilat.services.runner.domain import AssignmentStatus
from kilat.platform.runtime import ServiceRuntime
from kilat.services.runner.context import RunnerContext

ENGAGED_STATUSES = frozenset({"accepted", "in_progress", "delivered"})
PROFILE_FIELDS = ("email", "full_name", "phone", "role")


def handlers(runtime: ServiceRuntime) -> dict:
    context: RunnerContext = runtime.context
    live = context.live

    async def assignment(session: AsyncSession, event: Event, fact: AssignmentStatus,
                         runner_id: uuid.UUID | None, *, by_runner: bool = False) -> None:
        if runner_id is None:
            return
        booking: BookingFact = event.payload
        await service.record_assignment(session, live, booking.booking_id, runner_id, fact,
                                        event.time, by_runner=by_runner)

    async def on_accepted(session: AsyncSession, event: Event) -> None:
        await assignment(session, event, AssignmentStatus.ACTIVE, event.payload.runner_id)

    async def on_completed(session: AsyncSession, event: Event) -> None:
        await assignment(session, event, AssignmentStatus.COMPLETED, event.payload.runner_id)

    async def on_cancelled(session: AsyncSession, event: Event) -> None:
        cancelled: BookingCancelled = event.payload
        runner = cancelled.runner_id
        by_runner = ((runner is not None and cancelled.cancelled_by == runner
                      or cancelled.cancelled_by_role == "runner")
                     and (cancelled.previous_status or "accepted") in ENGAGED_STATUSES)
        await assignment(session, event, AssignmentStatus.CANCELLED, runner, by_runner=by_runner)

    async def on_declined(session: AsyncSession, event: Event) -> None:
        declined: BookingDeclined = event.payload
        await assignment(session, event, AssignmentStatus.DECLINED,
                         declined.runner_id or declined.declined_by)

    async def on_review(session: AsyncSession, event: Event) -> None:
        review: ReviewFact = event.payload
        if review.runner_id is None or not 1 <= review.rating <= 5:
            return  # not a review of a runner
        await service.record_review(session, live, review.review_id, review.booking_id,
                                    review.runner_id, review.rating,
                                    hidden=event.type == ReviewHidden.TYPE)

    async def on_profile(session: AsyncSession, event: Event) -> None:
        profile: Contact = event.payload
        sent = profile.model_fields_set
        await service.record_profile(session, profile.user_id,
                                     {k: getattr(profile, k) for k in PROFILE_FIELDS if k in sent})

    return {
        BookingAccepted.TYPE: on_accepted,
        BookingCompleted.TYPE: on_completed,
        BookingCancelled.TYPE: on_cancelled,
        BookingDeclined.TYPE: on_declined,
        ReviewCreated.TYPE: on_review,
        ReviewHidden.TYPE: on_review,
        UserRegistered.TYPE: on_profile,
        ProfileUpdated.TYPE: on_profile,
    }
