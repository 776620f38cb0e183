"""The delivery worker: sends due deliveries through each channel's providers, with retries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter

from kilat.platform.db import Database
from kilat.services.notification.domain import DEFERRABLE, Channel
from kilat.services.notification.models import Delivery, Notification
from kilat.services.notification.providers import (
    DeliveryError,
    OutboundMessage,
    ProviderChain,
)
from kilat.services.notification.delivery import DeliveryQueue
from kilat.services.notification.settings import NotificationSettings

log = structlog.get_logger(__name__)

CONCURRENT_SENDS = 8
ATTEMPTS = Counter("kilat_notification_delivery_attempts_total",
                   "Channel delivery attempts by outcome", ["channel", "outcome"])
STOP_GRACE_SECONDS = 10.0


class Dispatcher:
    """Polls the deliveries table (and wakes on new work); safe to run in several instances."""

    def __init__(self, database: Database, settings: NotificationSettings,
                 chains: dict[Channel, ProviderChain], clock: Callable[[], datetime]) -> None:
        self.database = database
        self.settings = settings
        self.chains = chains
        self.clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._slots = asyncio.Semaphore(CONCURRENT_SENDS)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                while await self.drain() >= self.settings.worker_batch_size:
                    pass
            except Exception as exc:  # database down: keep the rows, try again on the next poll
                log.warning("notification dispatch failed", error=str(exc))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.worker_poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    def queue(self, session) -> DeliveryQueue:
        return DeliveryQueue(session, self.settings, self.wake)

    async def drain(self) -> int:
        """Claim one batch of due deliveries and attempt each; returns how many were claimed."""
        async with self.database.session(write=False) as session:
            if not await self.queue(session).any_due(self.clock()):
                return 0  # spares SQLite a write lock on every idle poll
        async with self.database.session() as session:
            claimed = [(d.id, None if d.sensitive else d.user_id, Channel(d.channel),
                        self._message(d, n))
                       for d, n in await self.queue(session).claim(self.clock())]
        await asyncio.gather(*(self._attempt(*item) for item in claimed))
        return len(claimed)

    async def _attempt(self, delivery_id, quiet_for, channel: Channel,
                       message: OutboundMessage) -> None:
        """``quiet_for``: the user whose quiet hours hold the message back; None for secrets
        (a code held until morning is useless) and for messages to no user."""
        async with self._slots:
            if (channel in DEFERRABLE and quiet_for is not None
                    and await self._defer_if_quiet(delivery_id, quiet_for)):
                return
            provider, error = None, None
            try:
                provider = await self.chains[channel].send(message)
            except DeliveryError as exc:
                error = str(exc)
            ATTEMPTS.labels(channel.value, "sent" if error is None else "failed").inc()
            async with self.database.session() as session:
                await self.queue(session).record(delivery_id, self.clock(), provider=provider,
                                                 error=error)

    async def _defer_if_quiet(self, delivery_id, user_id) -> bool:
        """Quiet hours are checked again at send time: they may have changed since queueing."""
        async with self.database.session(write=False) as session:
            until = await self.queue(session).quiet_until(user_id, self.clock())
        if until is None:
            return False
        async with self.database.session() as session:
            await self.queue(session).defer(delivery_id, until)
        return True

    @staticmethod
    def _message(delivery: Delivery, notification: Notification) -> OutboundMessage:
        data: dict[str, Any] = {
            "delivery_id": str(delivery.id), "notification_id": str(notification.id),
            "user_id": str(delivery.user_id) if delivery.user_id else None,
            "event_type": notification.event_type,
            "booking_id": str(notification.booking_id) if notification.booking_id else None,
        }
        return OutboundMessage(Channel(delivery.channel), delivery.address, delivery.subject,
                               delivery.body, data)

