"""Review tables: the bookings read model and the reviews."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.models import Entity, UTCDateTime, VersionMixin, service_base, utcnow


Base = service_base("review")
metadata = Base.metadata


class ReviewBooking(Base):
    """A booking and its parties as the booking service announced them."""

    __tablename__ = "review_bookings"
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    booking_number: Mapped[str] = mapped_column(String(32), default="")
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    runner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Review(Base, Entity, VersionMixin):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("booking_id", "reviewer_id", name="uq_reviews_booking_reviewer"),
        Index("ix_reviews_reviewee_created", "reviewee_id", "created_at"),
        Index("ix_reviews_reviewer_created", "reviewer_id", "created_at"),
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    booking_number: Mapped[str] = mapped_column(String(32), default="")
    reviewer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reviewee_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reviewer_role: Mapped[str] = mapped_column(String(10))
    runner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
