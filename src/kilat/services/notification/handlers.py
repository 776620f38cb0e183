"""Event consumers: identity facts into contacts, everything a user should hear into notifications."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.booking import BookingFact
from kilat.contracts.identity import (
    PasswordResetRequested,
    ProfileUpdated,
    ReferralRecorded,
    SignInCodeRequested,
    UserBanned,
    UserRegistered,
)
from kilat.contracts.review import ReviewCreated
from kilat.contracts.tracking import ChatMessageSent
from kilat.platform.events import Event
from kilat.platform.runtime import ServiceRuntime
from kilat.services.notification import verticals
from kilat.services.notification.context import NotificationContext
from kilat.services.notification.rules import RULES, notices_for
from kilat.services.notification.service import NotificationService


def handlers(runtime: ServiceRuntime) -> dict:
    context: NotificationContext = runtime.context

    def service(session: AsyncSession) -> NotificationService:
        return NotificationService(session, context.settings, context.dispatcher.wake)

    async def notify(session: AsyncSession, event: Event) -> None:
        # the patterns below also bring events nobody hears about: those are not parsed
        if event.type not in RULES and event.type.split(".", 1)[0] != BookingFact.FAMILY:
            return
        payload = event.payload
        notifier = service(session)
        if isinstance(payload, BookingFact):
            await notifier.save_booking(payload)
        for notice in notices_for(payload):
            await notifier.notify(notice, event_type=event.type, event_id=event.id,
                                  now=context.now())

    async def on_contact(session: AsyncSession, event: Event) -> None:
        await service(session).save_contact(event.payload)
        await notify(session, event)

    async def on_banned(session: AsyncSession, event: Event) -> None:
        banned: UserBanned = event.payload
        await service(session).ban(banned.user_id)

    return {"booking.*": notify, "payment.*": notify, "tracking.*": notify,
            ChatMessageSent.TYPE: notify, ReviewCreated.TYPE: notify,
            PasswordResetRequested.TYPE: notify, ReferralRecorded.TYPE: notify,
            SignInCodeRequested.TYPE: notify,
            UserRegistered.TYPE: on_contact, ProfileUpdated.TYPE: on_contact,
            UserBanned.TYPE: on_banned} | {family: notify for family in verticals.FAMILIES}
