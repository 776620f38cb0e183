"""Review rules with I/O: the bookings read model, writing reviews, ratings, moderation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.booking import BookingFact
from kilat.platform.auth import Principal
from kilat.platform.errors import Conflict, Forbidden, Unprocessable, not_found
from kilat.platform.events import record_event
from kilat.platform.readthrough import Fetch, read_through
from kilat.services.review import domain, events
from kilat.services.review.models import Review, ReviewBooking
from kilat.services.review.repository import ReviewRepository
from kilat.services.review.schemas import ReviewCreate
from kilat.services.review.settings import ReviewSettings


def _time(value: Any) -> datetime | None:
    return None if not value else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# the booking as GET /api/v1/bookings/{id} shows it, read for a caller whose read model lags
BookingFetch = Callable[[uuid.UUID], Fetch]


class ReviewService:
    def __init__(self, session: AsyncSession, settings: ReviewSettings,
                 fetch_booking: BookingFetch | None = None) -> None:
        self.session = session
        self.repo = ReviewRepository(session)
        self.settings = settings
        self.fetch_booking = fetch_booking

    async def record_booking(self, fact: BookingFact, occurred_at: datetime) -> None:
        """Keep the booking's parties and status as the booking service reports them."""
        if fact.owner_id is None or not fact.status:
            return
        booking = await self.repo.booking(fact.booking_id)
        if booking is None:
            booking = ReviewBooking(booking_id=fact.booking_id, owner_id=fact.owner_id,
                                    status=fact.status)
            self.session.add(booking)
        elif not domain.accepts_update(booking.status, fact.status):
            return
        booking.status = fact.status
        booking.booking_number = fact.booking_number or booking.booking_number or ""
        booking.runner_id = fact.runner_id
        if booking.status == domain.COMPLETED:
            booking.completed_at = occurred_at

    async def create(self, user: Principal, body: ReviewCreate, now: datetime) -> Review:
        """A party of a completed booking reviews the other party, once."""
        booking = await self._completed_booking(body.booking_id)
        if booking is None:
            raise not_found("Booking", body.booking_id)
        role = domain.reviewer_role(user.user_id, booking.owner_id, booking.runner_id)
        if role is None:
            raise Forbidden("only the owner or the runner of a booking can review it")
        if not domain.reviewable(booking.status, booking.runner_id):
            raise Unprocessable("booking is not completed",
                                f"booking status is '{booking.status}'; reviews open on completion")
        if domain.window_closed(booking.completed_at, now, self.settings.window_days):
            raise Unprocessable("review window closed",
                                f"reviews are accepted {self.settings.window_days} days after completion")
        if await self.repo.review_by(booking.booking_id, user.user_id) is not None:
            raise Conflict("booking already reviewed", "each party reviews a booking once")
        review = self._new(booking, role, user.user_id, body)
        try:
            async with self.session.begin_nested():
                self.session.add(review)
                await self.session.flush()
        except IntegrityError as exc:
            raise Conflict("booking already reviewed", "each party reviews a booking once") from exc
        await record_event(self.session, events.created(review, await self._runner_rating(review)))
        return review

    async def _completed_booking(self, booking_id: uuid.UUID) -> ReviewBooking | None:
        """The booking from the read model, or from the booking service while its completion is
        still on the way here."""
        if self.fetch_booking is None:
            return await self.repo.booking(booking_id)
        return await read_through(
            lambda: self.repo.booking(booking_id),
            lambda booking: domain.reviewable(booking.status, booking.runner_id),
            self.fetch_booking(booking_id), self._upsert_fetched)

    async def _upsert_fetched(self, data: dict[str, Any]) -> ReviewBooking | None:
        booking_id = uuid.UUID(str(data["id"]))
        moment = _time(data.get("completed_at")) or _time(data.get("updated_at"))
        try:
            async with self.session.begin_nested():
                fact = BookingFact.model_validate({**data, "booking_id": booking_id})
                await self.record_booking(fact, moment)
                await self.session.flush()
        except IntegrityError:
            pass  # its event was recorded meanwhile; that row stands
        return await self.repo.booking(booking_id)

    def _new(self, booking: ReviewBooking, role: domain.ReviewerRole, reviewer: uuid.UUID,
             body: ReviewCreate) -> Review:
        return Review(
            booking_id=booking.booking_id, booking_number=booking.booking_number,
            reviewer_id=reviewer, reviewer_role=role.value,
            reviewee_id=domain.reviewee(role, booking.owner_id, booking.runner_id),
            runner_id=booking.runner_id if role is domain.ReviewerRole.OWNER else None,
            rating=body.rating, comment=body.comment.strip(),
            tags=domain.normalize_tags(body.tags), is_hidden=False,
        )

    async def _runner_rating(self, review: Review) -> dict[str, Any] | None:
        if review.runner_id is None:
            return None
        summary = await self.summary(review.runner_id)
        return {"average": summary["average"], "count": summary["count"]}

    async def summary(self, runner_id: uuid.UUID) -> dict[str, Any]:
        total, count = await self.repo.runner_stars(runner_id)
        return {"runner_id": runner_id, "average": domain.average(total, count), "count": count}

    async def for_runner(self, runner_id: uuid.UUID, offset: int,
                         limit: int) -> tuple[list[Review], int]:
        return await self.repo.paginate(self.repo.reviews(runner_id=runner_id, hidden=False),
                                        offset=offset, limit=limit)

    async def for_booking(self, booking_id: uuid.UUID, user: Principal) -> list[Review]:
        booking = await self.repo.booking(booking_id)
        if booking is None:
            raise not_found("Booking", booking_id)
        party = domain.reviewer_role(user.user_id, booking.owner_id, booking.runner_id)
        if party is None and not user.is_admin:
            raise Forbidden("only the booking's owner, runner or an admin can see its reviews")
        query = self.repo.reviews(booking_id=booking_id, hidden=None if user.is_admin else False)
        return list((await self.session.scalars(query)).all())

    async def mine(self, user_id: uuid.UUID, received: bool, offset: int,
                   limit: int) -> tuple[list[Review], int]:
        query = (self.repo.reviews(reviewee_id=user_id, hidden=False) if received
                 else self.repo.reviews(reviewer_id=user_id))
        return await self.repo.paginate(query, offset=offset, limit=limit)

    async def get(self, review_id: uuid.UUID, user: Principal) -> Review:
        review = await self.repo.get(review_id)
        visible = review is not None and (not review.is_hidden or user.is_admin
                                          or user.user_id in (review.reviewer_id, review.reviewee_id))
        if not visible:
            raise not_found("Review", review_id)
        return review

    async def admin_page(self, offset: int, limit: int, **filters: Any) -> tuple[list[Review], int]:
        return await self.repo.paginate(self.repo.reviews(**filters), offset=offset, limit=limit)

    async def hide(self, review_id: uuid.UUID, admin: Principal, reason: str,
                   now: datetime) -> Review:
        """Moderation: hide a review from lists and ratings (publishes ``review.hidden``)."""
        review = await self.repo.get(review_id)
        if review is None:
            raise not_found("Review", review_id)
        if review.is_hidden:
            raise Conflict("review is already hidden")
        review.is_hidden, review.hidden_reason = True, reason.strip()
        review.hidden_at, review.hidden_by = now, admin.user_id
        await self.session.flush()
        await record_event(self.session,
                           events.hidden(review, await self._runner_rating(review), now))
        return review
