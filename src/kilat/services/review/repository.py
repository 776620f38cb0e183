"""All review queries."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select

from kilat.platform.repository import Repository
from kilat.services.review.models import Review, ReviewBooking


class ReviewRepository(Repository[Review]):
    model, entity = Review, "review"

    async def booking(self, booking_id: uuid.UUID) -> ReviewBooking | None:
        return await self.session.get(ReviewBooking, booking_id)

    async def review_by(self, booking_id: uuid.UUID, reviewer_id: uuid.UUID) -> Review | None:
        return await self.session.scalar(select(Review).where(
            Review.booking_id == booking_id, Review.reviewer_id == reviewer_id))

    def reviews(self, *, runner_id: uuid.UUID | None = None, booking_id: uuid.UUID | None = None,
                reviewer_id: uuid.UUID | None = None, reviewee_id: uuid.UUID | None = None,
                hidden: bool | None = None) -> Select:
        query = select(Review).order_by(Review.created_at.desc(), Review.id)
        for column, value in ((Review.runner_id, runner_id), (Review.booking_id, booking_id),
                              (Review.reviewer_id, reviewer_id), (Review.reviewee_id, reviewee_id)):
            if value is not None:
                query = query.where(column == value)
        if hidden is not None:
            query = query.where(Review.is_hidden.is_(hidden))
        return query

    async def runner_stars(self, runner_id: uuid.UUID) -> tuple[int, int]:
        """(sum of stars, number of reviews) of the visible reviews owners gave the runner."""
        row = (await self.session.execute(
            select(func.coalesce(func.sum(Review.rating), 0), func.count(Review.id))
            .where(Review.runner_id == runner_id, Review.is_hidden.is_(False)))).one()
        return int(row[0]), int(row[1])
