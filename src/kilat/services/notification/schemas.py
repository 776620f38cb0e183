"""Notification request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kilat.platform.schemas import Int32, Schema
from kilat.services.notification.domain import LOCALES, parse_hhmm, parse_timezone


class Notification(Schema):
    id: uuid.UUID
    user_id: uuid.UUID | None = Field(None, description="null: sent to an address, no account")
    booking_id: uuid.UUID | None = None
    event_type: str
    type: str = Field(description="same as event_type (the web clients read `type`)")
    title: str
    body: str
    status: str
    is_read: bool
    read_at: datetime | None = None
    channels_sent: list[str]
    channels_failed: list[str]
    created_at: datetime


class NotificationItem(BaseModel):
    """One entry of the cursor form, in the iOS client's shape."""

    model_config = ConfigDict(populate_by_name=True)
    id: uuid.UUID
    type: str
    title: str
    body: str
    created_at: datetime = Field(serialization_alias="createdAt")
    read_at: datetime | None = Field(default=None, serialization_alias="readAt")


class NotificationCursorPage(BaseModel):
    success: Literal[True] = True
    items: list[NotificationItem]
    next_cursor: str = Field(serialization_alias="nextCursor",
                             description="pass as `cursor` for the next page; empty at the end")


class UnreadCount(BaseModel):
    count: int


class ReadAll(BaseModel):
    updated: int


class Preference(Schema):
    user_id: uuid.UUID
    enable_push: bool
    enable_sms: bool
    enable_email: bool
    fcm_token: str | None = None
    phone_number: str | None = None
    email: str | None = None
    quiet_hours_start: str | None = Field(default=None, description="HH:MM, user's time zone")
    quiet_hours_end: str | None = Field(default=None, description="HH:MM; before start = overnight")
    locale: str
    timezone: str
    version: int

    @field_validator("quiet_hours_start", "quiet_hours_end", mode="before")
    @classmethod
    def _hhmm(cls, value: time | str | None) -> str | None:
        return value.strftime("%H:%M") if isinstance(value, time) else value


class PreferenceUpdate(Schema):
    """Fields left out keep their value; ``null`` clears an optional one."""

    model_config = ConfigDict(extra="forbid")
    enable_push: bool | None = None
    enable_sms: bool | None = None
    enable_email: bool | None = None
    phone_number: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()-]{6,31}$")
    email: str | None = Field(default=None, max_length=255,
                              pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    quiet_hours_start: str | None = Field(default=None, description="HH:MM in the user's time zone")
    quiet_hours_end: str | None = Field(default=None, description="HH:MM; before start = overnight")
    locale: Literal[LOCALES] | None = None  # type: ignore[valid-type]
    timezone: str | None = Field(default=None, description="IANA name, e.g. Asia/Kuala_Lumpur")
    version: Int32 | None = Field(default=None, description="when given, must match (else 409)")

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _valid_time(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hhmm(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str | None) -> str | None:
        if value is not None:
            parse_timezone(value)
        return value


class FcmToken(Schema):
    token: str = Field(min_length=1, max_length=512)


class Delivery(Schema):
    id: uuid.UUID
    notification_id: uuid.UUID
    user_id: uuid.UUID | None = Field(None, description="null: sent to an address, no account")
    channel: str
    address: str
    subject: str
    body: str
    status: str
    attempts: int
    max_retries: int
    next_attempt_at: datetime
    deferred_until: datetime | None = None
    provider: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    created_at: datetime


class SinkMessage(Schema):
    channel: str
    recipient: str = Field(description="the E.164 phone, email address or push token")
    subject: str
    body: str
    sent_at: datetime
