"""Webhooks: a customer's subscriptions, one delivery row per event and subscription, written in
the transaction of the change (so none is lost), sent signed by a background sender with retries
and exponential backoff; a subscription failing ``webhook_max_failures`` times in a row is
disabled. Requests go only to the registered URL: no redirects are followed."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.parcels import ParcelFact
from kilat.platform.auth import Principal
from kilat.platform.errors import Unprocessable, not_found
from kilat.platform.models import utcnow
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.parcels import domain
from kilat.services.parcels.audit import Actor, audit
from kilat.services.parcels.models import Webhook, WebhookAttempt, WebhookDelivery
from kilat.services.parcels.repository import Webhooks
from kilat.services.parcels.schemas import WebhookCreate
from kilat.services.parcels.settings import ParcelsSettings

log = structlog.get_logger(__name__)

EVENT_TYPES = frozenset({
    "parcels.shipment_offered", "parcels.shipment_assigned", "parcels.shipment_picked_up",
    "parcels.shipment_in_transit", "parcels.shipment_delivered", "parcels.shipment_failed",
    "parcels.shipment_returned", "parcels.shipment_cancelled"})
SIGNATURE_HEADER = "X-Kilat-Signature"
# what a receiver gets: no personal data beyond what the customer's own order holds
PUBLIC_FIELDS = ("order_id", "shipment_id", "tracking_number", "status", "previous_status",
                 "city", "occurred_at", "reason", "proof_photo_url")


def jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Enum):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _wants(webhook: Webhook, event_type: str) -> bool:
    return "*" in webhook.events or event_type in webhook.events


async def enqueue(session: AsyncSession, customer_id: uuid.UUID, event: ParcelFact) -> int:
    """A pending delivery per active subscription of the customer that wants ``event``."""
    if event.TYPE not in EVENT_TYPES:
        return 0
    hooks = [w for w in await Webhooks(session).listening(customer_id) if _wants(w, event.TYPE)]
    data = event.data()
    now = utcnow()
    for hook in hooks:
        body = {"id": str(uuid.uuid4()), "type": event.TYPE, "created_at": now.isoformat(),
                "data": {k: data.get(k) for k in PUBLIC_FIELDS if k in data}}
        session.add(WebhookDelivery(webhook_id=hook.id, created_at=now, event_type=event.TYPE,
                                    payload=body, status="pending", next_attempt_at=now))
    return len(hooks)


async def attempts_of(session: AsyncSession, delivery_id: uuid.UUID) -> list[WebhookAttempt]:
    return await Webhooks(session).attempts(delivery_id)


class WebhookService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = Webhooks(session)

    async def create(self, user: Principal, body: WebhookCreate, actor: Actor) -> Webhook:
        unknown = [e for e in body.events if e != "*" and e not in EVENT_TYPES]
        if unknown:
            raise Unprocessable("unknown webhook events",
                                f"{unknown}; known: * or {sorted(EVENT_TYPES)}")
        if not str(body.url).startswith(("http://", "https://")):
            raise Unprocessable("webhook url must be an absolute http(s) URL")
        hook = Webhook(customer_id=user.user_id, url=str(body.url), events=sorted(set(body.events)),
                       secret=body.secret or secrets.token_urlsafe(32), active=True)
        self.session.add(hook)
        await self.session.flush()
        audit(self.session, actor, "webhook.create", "webhooks", hook.id,
              {"url": hook.url, "events": hook.events, "secret": "set"})
        return hook

    async def mine(self, user: Principal, webhook_id: uuid.UUID) -> Webhook:
        hook = await self.repo.get(webhook_id)
        if hook is None or hook.deleted_at is not None or (
                hook.customer_id != user.user_id and not user.is_admin):
            raise not_found("Webhook", webhook_id)
        return hook

    async def delete(self, user: Principal, webhook_id: uuid.UUID, actor: Actor) -> None:
        hook = await self.mine(user, webhook_id)
        hook.deleted_at, hook.active = utcnow(), False
        await self.repo.give_up_pending(hook.id)
        audit(self.session, actor, "webhook.delete", "webhooks", hook.id, {"active": False})

    async def enable(self, user: Principal, webhook_id: uuid.UUID, actor: Actor) -> Webhook:
        hook = await self.mine(user, webhook_id)
        hook.active, hook.consecutive_failures, hook.disabled_at = True, 0, None
        audit(self.session, actor, "webhook.enable", "webhooks", hook.id, {"active": True})
        return hook

    async def delivery_of(self, user: Principal, webhook_id: uuid.UUID,
                          delivery_id: uuid.UUID) -> WebhookDelivery:
        await self.mine(user, webhook_id)
        delivery = await self.repo.delivery(delivery_id)
        if delivery is None or delivery.webhook_id != webhook_id:
            raise not_found("Webhook delivery", delivery_id)
        return delivery

    async def replay(self, user: Principal, webhook_id: uuid.UUID, delivery_id: uuid.UUID,
                     actor: Actor) -> WebhookDelivery:
        """Send a past delivery again, as a new delivery (the same body, a fresh signature)."""
        original = await self.delivery_of(user, webhook_id, delivery_id)
        now = utcnow()
        copy = WebhookDelivery(webhook_id=webhook_id, created_at=now,
                               event_type=original.event_type, payload=original.payload,
                               status="pending", next_attempt_at=now, replay_of=original.id)
        self.session.add(copy)
        await self.session.flush()
        audit(self.session, actor, "webhook.replay", "webhook_events", copy.id,
              {"replay_of": original.id})
        return copy


class WebhookSender:
    """Background sender: takes due deliveries with a conditional update (one instance sends
    each), posts them with a bounded timeout and records the attempt."""

    def __init__(self, database, settings: ParcelsSettings) -> None:
        self.database = database
        self.settings = settings
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        timeout = httpx.Timeout(self.settings.webhook_timeout_seconds)
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)
        try:
            while True:
                self._wake.clear()  # a wake during the sends below is kept for the next turn
                try:
                    while await self.send_due() > 0:
                        pass
                except Exception as exc:
                    stop_if_cancelled(exc)
                    log.warning("webhook sender failed", error=str(exc)[:300])
                try:
                    await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
                except TimeoutError:
                    pass
        finally:
            await self._client.aclose()

    async def send_due(self, limit: int = 20) -> int:
        now = utcnow()
        until = now + timedelta(seconds=self.settings.webhook_timeout_seconds * 3)
        async with self.database.session() as session:
            repo = Webhooks(session)
            taken = []
            for key in await repo.due(now, limit):
                if await repo.lock(key[0], key[1], now, until):
                    taken.append(key)
        await asyncio.gather(*(self._send(delivery_id) for delivery_id, _ in taken))
        return len(taken)

    async def _send(self, delivery_id: uuid.UUID) -> None:
        async with self.database.session(write=False) as session:
            delivery = await Webhooks(session).delivery(delivery_id)
            hook = await Webhooks(session).get(delivery.webhook_id)
            url, secret, payload = hook.url, hook.secret, delivery.payload
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Kilat-Webhooks/1",
                   SIGNATURE_HEADER: domain.signature(secret, int(time.time()), body),
                   "X-Kilat-Event": delivery.event_type, "X-Kilat-Delivery": str(delivery_id)}
        started = time.monotonic()
        code, error = None, None
        try:
            response = await self._client.post(url, content=body, headers=headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        await self._record(delivery_id, code, error, int((time.monotonic() - started) * 1000))

    async def _record(self, delivery_id: uuid.UUID, code: int | None, error: str | None,
                      duration_ms: int) -> None:
        async with self.database.session() as session:
            repo = Webhooks(session)
            delivery = await repo.delivery(delivery_id)
            hook = await repo.get(delivery.webhook_id)
            delivery.attempts += 1
            delivery.response_code, delivery.last_error, delivery.locked_until = code, error, None
            now = utcnow()
            if error is None:
                delivery.status, delivery.delivered_at, delivery.next_attempt_at = \
                    "delivered", now, None
                hook.consecutive_failures = 0
            else:
                self._failed(delivery, hook, now)
            session.add(WebhookAttempt(delivery_id=delivery.id, attempt=delivery.attempts,
                                       status=delivery.status, response_code=code, error=error,
                                       duration_ms=duration_ms, at=now))
            if error is not None and hook.active and \
                    hook.consecutive_failures >= self.settings.webhook_max_failures:
                hook.active, hook.disabled_at = False, now
                await session.flush()
                await repo.give_up_pending(hook.id)
                audit(session, Actor(None, "system"), "webhook.auto_disable", "webhooks", hook.id,
                      {"active": False, "consecutive_failures": hook.consecutive_failures})

    def _failed(self, delivery: WebhookDelivery, hook: Webhook, now: datetime) -> None:
        hook.consecutive_failures += 1
        if delivery.attempts >= self.settings.webhook_max_attempts:
            delivery.status, delivery.next_attempt_at = "permanent_failure", None
            return
        delay = domain.backoff_seconds(delivery.attempts, self.settings.webhook_backoff_seconds,
                                       self.settings.webhook_max_backoff_seconds)
        delivery.status, delivery.next_attempt_at = "failed", now + timedelta(seconds=delay)
