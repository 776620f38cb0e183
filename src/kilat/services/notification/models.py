"""Notification tables: contacts and bookings (read models), preferences, notifications, deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.models import Entity, UTCDateTime, VersionMixin, service_base, utcnow


Base = service_base("notification")
metadata = Base.metadata


class Contact(Base):
    """What identity told us about a user: where and how to reach them."""

    __tablename__ = "contacts"
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    full_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_banned: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BookingRef(Base):
    """Booking number and parties, so payment and chat notices can name the booking."""

    __tablename__ = "booking_refs"
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    booking_number: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    runner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Preference(Base, Entity, VersionMixin):
    __tablename__ = "notification_preferences"
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    enable_push: Mapped[bool] = mapped_column(Boolean, default=True)
    enable_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    enable_email: Mapped[bool] = mapped_column(Boolean, default=True)
    fcm_token: Mapped[str | None] = mapped_column(String(512))
    phone_number: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(255))
    quiet_hours_start: Mapped[time | None] = mapped_column(Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time)


class Notification(Base, Entity):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "fact_key", name="uq_notifications_user_fact"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("uq_notifications_addressed_fact", "fact_key", unique=True,
              sqlite_where=text("user_id IS NULL"), postgresql_where=text("user_id IS NULL")),
    )
    # None: sent to an address, to someone with no account (a first sign-in code)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    event_type: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    fact_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    is_read: Mapped[bool] = mapped_column(Boolean, default=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channels_sent: Mapped[list] = mapped_column(JSON, default=list)
    channels_failed: Mapped[list] = mapped_column(JSON, default=list)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, default=dict)


class Delivery(Base, Entity):
    """One channel of one notification; the table is also the retry queue."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_retries: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deferred_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SinkMessage(Base):
    """What the development sink (``log://``) was given, kept where every instance reads it."""

    __tablename__ = "sink_messages"
    __table_args__ = (Index("ix_sink_messages_recipient_sent", "recipient", "sent_at"),
                      Index("ix_sink_messages_sent_at", "sent_at"))
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
