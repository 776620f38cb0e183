"""Events the review service publishes (the runner service keeps ratings from them)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from kilat.contracts.base import Contract, Time


class RunnerRating(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    average: float | None = None
    count: int = 0


class ReviewFact(Contract):
    """``runner_id`` is set when an owner reviewed the runner; ``runner_rating`` then holds the
    runner's average and count after this change, so a consumer can simply overwrite its copy."""

    SUBJECT = "booking_id"

    review_id: uuid.UUID
    booking_id: uuid.UUID
    booking_number: str | None = None
    runner_id: uuid.UUID | None = None
    reviewer_id: uuid.UUID | None = None
    reviewee_id: uuid.UUID | None = None
    reviewer_role: str | None = None
    rating: int
    comment: str | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: Time | None = None
    runner_rating: RunnerRating | None = None


class ReviewCreated(ReviewFact):
    TYPE = "review.created"


class ReviewHidden(ReviewFact):
    TYPE = "review.hidden"

    reason: str | None = None
    hidden_at: Time | None = None
