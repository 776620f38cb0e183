"""Notification rules with I/O: create notifications, the inbox, preferences."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.booking import BookingFact
from kilat.contracts.identity import Contact as ContactFact
from kilat.platform.auth import Principal
from kilat.platform.db import after_commit
from kilat.platform.errors import BadRequest, Conflict, Forbidden, not_found
from kilat.services.notification import domain
from kilat.services.notification.domain import Channel, DeliveryStatus
from kilat.services.notification.models import Contact, Delivery, Notification, Preference
from kilat.services.notification.repository import NotificationRepository
from kilat.services.notification.rules import Notice
from kilat.services.notification.schemas import PreferenceUpdate
from kilat.services.notification.settings import NotificationSettings
from kilat.services.notification.templates import IN_APP, ROLE_LABELS, render, resolve_locale

SECRET_CONTEXT = frozenset({"token", "sign_in_code"})


def wake_after_commit(session: AsyncSession, wake: Callable[[], None] | None) -> None:
    """Wake the delivery worker once this transaction has committed (never before)."""
    if wake is not None:
        after_commit(session, wake)


class NotificationService:
    """Turns notices into stored notifications and queued channel deliveries."""

    def __init__(self, session: AsyncSession, settings: NotificationSettings,
                 wake: Callable[[], None] | None = None) -> None:
        self.session = session
        self.repo = NotificationRepository(session)
        self.settings = settings
        self.wake = wake

    async def notify(self, notice: Notice, *, event_type: str, event_id: uuid.UUID | None,
                     now: datetime) -> uuid.UUID | None:
        """Store the in-app notification and queue its channels; returns its id, or None if
        this fact was already notified (a repeat under another event id, or another instance)."""
        if notice.fact_key is None:
            notice = replace(notice, fact_key=f"{event_type}:event:{event_id}")
        contact, preference = await self._recipient(notice.user_id)
        locale = resolve_locale(contact.locale if contact else self.settings.default_locale)
        context = await self._context(notice, contact, locale)
        notification_id = uuid.uuid4()
        quiet_end = self._quiet_end(preference, contact, now)
        deliveries = [self._delivery(notification_id, notice, channel, address, locale, context,
                                     now, quiet_end)
                      for channel, address in self._channels(notice, contact, preference)]
        status = domain.aggregate_status(d.status for d in deliveries).value
        if not await self._store(notification_id, notice, event_type, event_id, locale, context,
                                 status):
            return None
        self.session.add_all(deliveries)
        if deliveries:
            wake_after_commit(self.session, self.wake)
        return notification_id

    async def _recipient(self, user_id: uuid.UUID | None) -> tuple[Contact | None,
                                                                 Preference | None]:
        if user_id is None:
            return None, None
        return await self.repo.contact(user_id), await self.repo.preference(user_id)

    async def _store(self, notification_id: uuid.UUID, notice: Notice, event_type: str,
                     event_id: uuid.UUID | None, locale: str, context: dict[str, Any],
                     status: str) -> bool:
        """Insert the notification unless one exists for (user, fact): one statement, no
        lookup or savepoint first; False when it existed."""
        shown = render(notice.template, locale, IN_APP, context)
        return await self.repo.insert_notification_once({
            "id": notification_id, "user_id": notice.user_id, "booking_id": notice.booking_id,
            "event_type": event_type, "event_id": event_id, "fact_key": notice.fact_key[:200],
            "title": shown.title[:255], "body": shown.body, "locale": locale, "status": status,
            "is_read": False, "channels_sent": [], "channels_failed": [],
            "metadata": {"template": notice.template,
                         "context": {k: v for k, v in context.items() if k not in SECRET_CONTEXT}},
        })

    def _channels(self, notice: Notice, contact: Contact | None,
                  preference: Preference | None) -> list[tuple[Channel, str]]:
        if contact is not None and contact.is_banned:
            return []
        pref = preference
        switches = {Channel.PUSH: pref.enable_push if pref else True,
                    Channel.SMS: pref.enable_sms if pref else True,
                    Channel.EMAIL: pref.enable_email if pref else True}
        addresses = {Channel.PUSH: pref.fcm_token if pref else None,
                     Channel.SMS: (pref.phone_number if pref else None) or (contact and contact.phone),
                     Channel.EMAIL: (pref.email if pref else None) or (contact and contact.email)}
        addresses |= notice.addresses
        return domain.choose_channels(notice.channels, notice.required, switches, addresses)

    def _quiet_end(self, preference: Preference | None, contact: Contact | None,
                   now: datetime) -> datetime | None:
        if preference is None:
            return None
        zone = domain.parse_timezone(contact.timezone if contact else self.settings.default_timezone)
        return domain.quiet_hours_end(now, preference.quiet_hours_start,
                                      preference.quiet_hours_end, zone)

    def _delivery(self, notification_id: uuid.UUID, notice: Notice, channel: Channel,
                  address: str, locale: str, context: dict[str, Any], now: datetime,
                  quiet_end: datetime | None) -> Delivery:
        text = render(notice.template, locale, channel, context)
        # a code held until morning would be useless: secrets are never deferred
        deferred = quiet_end if channel in domain.DEFERRABLE and not notice.sensitive else None
        return Delivery(
            notification_id=notification_id, user_id=notice.user_id, channel=channel.value,
            address=address, subject=text.title[:255], body=text.body, sensitive=notice.sensitive,
            status=(DeliveryStatus.DEFERRED if deferred else DeliveryStatus.PENDING).value,
            attempts=0, max_retries=self.settings.max_retries,
            next_attempt_at=deferred or now, deferred_until=deferred,
        )

    async def _context(self, notice: Notice, contact: Contact | None, locale: str) -> dict[str, Any]:
        context = dict(notice.context)
        if not context.get("name"):
            context["name"] = (contact.full_name if contact else None) or ""
        if notice.booking_id is not None and not context.get("booking_number"):
            ref = await self.repo.booking_ref(notice.booking_id)
            context["booking_number"] = ref.booking_number if ref else f"#{str(notice.booking_id)[:8]}"
        if context.get("sender_id"):
            sender = await self.repo.contact(uuid.UUID(context["sender_id"]))
            role_label = ROLE_LABELS[locale].get(context.get("sender_role", ""), "Kilat")
            context["sender"] = (sender.full_name if sender else None) or role_label
        return context

    # read models fed by identity and booking events

    async def save_contact(self, fact: ContactFact) -> None:
        """Identity's latest facts; fields an event leaves out keep their value."""
        contact = await self.repo.contact_or_new(fact.user_id)
        for field in ("email", "phone", "full_name", "role"):
            if getattr(fact, field, None):
                setattr(contact, field, getattr(fact, field))

    async def ban(self, user_id: uuid.UUID) -> None:
        contact = await self.repo.contact_or_new(user_id)
        contact.is_banned = True

    async def save_booking(self, booking: BookingFact) -> None:
        await self.repo.save_booking_ref(booking.booking_id, booking.booking_number or "",
                                         booking.owner_id, booking.runner_id)


def encode_cursor(notification: Notification) -> str:
    raw = f"{notification.created_at.isoformat()}|{notification.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, notification_id = raw.split("|")
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError("naive cursor time")
        return when, uuid.UUID(notification_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("invalid cursor", "pass back the nextCursor of a previous page") from exc


class InboxService:
    """A user's own notifications."""

    def __init__(self, session: AsyncSession) -> None:
        self.repo = NotificationRepository(session)

    async def page(self, user_id: uuid.UUID | None, offset: int, limit: int,
                   unread: bool | None = None) -> tuple[list[Notification], int]:
        """Newest first; ``user_id=None`` lists everyone's (admin)."""
        return await self.repo.paginate(self.repo.notifications_query(user_id, unread),
                                       offset=offset, limit=limit)

    async def after_cursor(self, user_id: uuid.UUID, cursor: str,
                           limit: int) -> tuple[list[Notification], str]:
        rows = await self.repo.notifications_before(user_id, decode_cursor(cursor), limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_cursor(rows[-1]) if more else ""

    async def get(self, notification_id: uuid.UUID, user: Principal) -> Notification:
        notification = await self.repo.notification(notification_id)
        if notification is None:
            raise not_found("Notification", notification_id)
        if notification.user_id != user.user_id and not user.is_admin:
            raise Forbidden("not your notification")
        return notification

    async def mark_read(self, notification_id: uuid.UUID, user: Principal, now: datetime) -> None:
        notification = await self.repo.notification(notification_id)
        if notification is None:
            raise not_found("Notification", notification_id)
        if notification.user_id != user.user_id:
            raise Forbidden("not your notification")
        await self.repo.mark_read(notification_id, now)

    async def mark_all_read(self, user_id: uuid.UUID, now: datetime) -> int:
        return await self.repo.mark_all_read(user_id, now)

    async def unread_count(self, user_id: uuid.UUID) -> int:
        return await self.repo.unread_count(user_id)


@dataclass
class PreferenceView:
    user_id: uuid.UUID
    enable_push: bool
    enable_sms: bool
    enable_email: bool
    fcm_token: str | None
    phone_number: str | None
    email: str | None
    quiet_hours_start: Any
    quiet_hours_end: Any
    locale: str
    timezone: str
    version: int


class PreferenceService:
    def __init__(self, session: AsyncSession, settings: NotificationSettings) -> None:
        self.session = session
        self.repo = NotificationRepository(session)
        self.settings = settings

    async def view(self, user_id: uuid.UUID) -> PreferenceView:
        """Saved preferences, or the defaults (every channel on, identity's contact data)."""
        pref = await self.repo.preference(user_id)
        contact = await self.repo.contact(user_id)
        return PreferenceView(
            user_id=user_id,
            enable_push=pref.enable_push if pref else True,
            enable_sms=pref.enable_sms if pref else True,
            enable_email=pref.enable_email if pref else True,
            fcm_token=pref.fcm_token if pref else None,
            phone_number=(pref.phone_number if pref else None) or (contact.phone if contact else None),
            email=(pref.email if pref else None) or (contact.email if contact else None),
            quiet_hours_start=pref.quiet_hours_start if pref else None,
            quiet_hours_end=pref.quiet_hours_end if pref else None,
            locale=contact.locale if contact else self.settings.default_locale,
            timezone=contact.timezone if contact else self.settings.default_timezone,
            version=pref.version if pref else 0,
        )

    async def _preference(self, user_id: uuid.UUID) -> Preference:
        pref = await self.repo.preference(user_id)
        if pref is None:
            pref = Preference(user_id=user_id, enable_push=True, enable_sms=True, enable_email=True)
            self.session.add(pref)
        return pref

    async def update(self, user_id: uuid.UUID, change: PreferenceUpdate) -> PreferenceView:
        pref = await self._preference(user_id)
        if change.version is not None and change.version != (pref.version or 0):
            raise Conflict("preferences were changed by another request",
                           f"current version is {pref.version or 0}")
        given = change.model_fields_set - {"version", "locale", "timezone"}
        for name in given:
            value = getattr(change, name)
            if name.startswith("quiet_hours_"):
                value = domain.parse_hhmm(value) if value is not None else None
            elif name.startswith("enable_") and value is None:
                raise BadRequest(f"{name}: must be true or false")
            setattr(pref, name, value)
        if (pref.quiet_hours_start is None) != (pref.quiet_hours_end is None):
            raise BadRequest("quiet_hours_start and quiet_hours_end must be set together",
                             "send both as HH:MM, or both as null to turn quiet hours off")
        await self._save_contact_settings(user_id, change)
        await self.session.flush()
        return await self.view(user_id)

    async def _save_contact_settings(self, user_id: uuid.UUID, change: PreferenceUpdate) -> None:
        if change.locale is None and change.timezone is None:
            return
        contact = await self.repo.contact_or_new(user_id)
        contact.locale = change.locale or contact.locale
        contact.timezone = change.timezone or contact.timezone

    async def register_token(self, user_id: uuid.UUID, token: str) -> None:
        """Idempotent: concurrent registrations for one user all succeed; the last one wins."""
        await self.repo.save_fcm_token(user_id, token)
