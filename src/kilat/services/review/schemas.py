"""Review request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kilat.platform.schemas import Pagination, Schema


class ReviewCreate(Schema):
    model_config = ConfigDict(extra="forbid")
    booking_id: uuid.UUID
    rating: int = Field(ge=1, le=5, description="1 to 5 stars")
    comment: str = Field(default="", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=10,
                            description="optional, e.g. punctual, gentle_with_pets")


class Review(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    booking_number: str
    reviewer_id: uuid.UUID
    reviewee_id: uuid.UUID
    reviewer_role: str
    runner_id: uuid.UUID | None = None
    rating: int
    comment: str
    tags: list[str]
    is_hidden: bool
    hidden_reason: str | None = None
    hidden_at: datetime | None = None
    created_at: datetime


class RatingSummary(BaseModel):
    runner_id: uuid.UUID
    average: float = Field(description="mean of the visible owners' stars, 2 decimals; 0 if none")
    count: int


class RunnerReviewPage(BaseModel):
    success: Literal[True] = True
    data: list[Review]
    pagination: Pagination
    average: float
    count: int


class HideReview(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)
