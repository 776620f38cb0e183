"""The development sink's messages, stored in the notification database so that every instance
of the service (and an admin reading through any of them) sees what any instance sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from kilat.platform.db import Database
from kilat.services.notification.models import SinkMessage
from kilat.services.notification.providers import OutboundMessage
from kilat.services.notification.repository import SinkMessages
from kilat.services.notification.settings import NotificationSettings


# pruning after every message would double the sink's writes; each instance prunes this often
PRUNE_EVERY = 20


class SinkStore:
    """Keeps the newest ``sink_keep`` messages of the last ``sink_max_age_seconds`` (give or
    take the ``PRUNE_EVERY`` each instance adds between two prunings)."""

    def __init__(self, database: Database, settings: NotificationSettings,
                 clock: Callable[[], datetime]) -> None:
        self.database = database
        self.keep = settings.sink_keep
        self.max_age = timedelta(seconds=settings.sink_max_age_seconds)
        self.clock = clock
        self._added = 0

    async def add(self, message: OutboundMessage) -> None:
        now = self.clock()
        async with self.database.session() as session:
            session.add(SinkMessage(channel=str(message.channel), recipient=message.to[:512],
                                    subject=message.subject[:255], body=message.body,
                                    sent_at=now))
            await session.flush()
            if self._added % PRUNE_EVERY == 0:
                await SinkMessages(session).prune(now - self.max_age, self.keep)
        self._added += 1


def recipient_forms(recipient: str) -> list[str]:
    """The stored forms a queried recipient may match: ``+62812…`` arrives as `` 62812…`` when
    a client leaves the + of a query string unencoded."""
    recipient = recipient.strip()
    if recipient.isdigit():
        return [recipient, f"+{recipient}"]
    return [recipient, recipient.lower()] if "@" in recipient else [recipient]
