"""Channel providers: SMTP email, HTTP webhook (any FCM/SMS gateway), and a development log sink."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiosmtplib
import httpx
import structlog

from kilat.services.notification.domain import Channel
from kilat.services.notification.settings import NotificationSettings

log = structlog.get_logger(__name__)


class DeliveryError(Exception):
    """The provider did not accept the message; the caller may retry later."""


@dataclass(frozen=True)
class OutboundMessage:
    channel: Channel
    to: str
    subject: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """Sends one message on one channel.

    - ``name`` is the provider's URL without credentials; it is stored on the delivery.
    - ``send`` MUST return only once the provider accepted the message, and MUST raise
      ``DeliveryError`` when it did not (refused, unreachable, timed out). It MAY be called again
      for the same message after a failure, so a provider that can de-duplicate SHOULD use
      ``data["delivery_id"]``.
    """

    name: str

    async def send(self, message: OutboundMessage) -> None: ...


class SinkRecorder(Protocol):
    """Keeps what the sink was given where an admin can read it back; ``add`` MUST raise
    (any exception) when it could not keep the message."""

    async def add(self, message: OutboundMessage) -> None: ...


class LogSink:
    """Development sink: logs the message, keeps the most recent ones in this process's memory
    and, given a ``recorder``, where every instance's admin route reads them."""

    def __init__(self, name: str = "log://", keep: int = 500,
                 recorder: SinkRecorder | None = None) -> None:
        self.name = name
        self.sent: deque[OutboundMessage] = deque(maxlen=keep)
        self.recorder = recorder

    async def send(self, message: OutboundMessage) -> None:
        if self.recorder is not None:
            try:
                await self.recorder.add(message)
            except Exception as exc:  # the database is down: retried like any provider failure
                raise DeliveryError(f"{self.name}: could not keep the message: {exc}") from exc
        self.sent.append(message)
        log.info("notification delivered to log sink", channel=message.channel, to=message.to,
                 subject=message.subject, body=message.body)


class WebhookProvider:
    """POSTs ``{channel, to, title, body, data}`` as JSON; any 2xx answer is acceptance."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url.removeprefix("webhook+")
        parts = urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        self.name = f"webhook+{parts.scheme}://{parts.hostname}{port}{parts.path}"
        self.client = client

    async def send(self, message: OutboundMessage) -> None:
        payload = {"channel": str(message.channel), "to": message.to, "title": message.subject,
                   "body": message.body, "data": message.data}
        try:
            response = await self.client.post(self.url, json=payload)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DeliveryError(f"{self.name}: HTTP {response.status_code} {response.text[:200]}")


class SmtpProvider:
    """Plain-text email through the configured SMTP server (``smtp://`` or ``smtp://host:port``)."""

    def __init__(self, url: str, settings: NotificationSettings) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or settings.smtp_host
        self.port = parts.port or settings.smtp_port
        self.settings = settings
        self.name = f"smtp://{self.host}:{self.port}"

    def _message(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.smtp_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain="kilat.local")
        email.set_content(message.body)
        return email

    async def send(self, message: OutboundMessage) -> None:
        if not self.host:
            raise DeliveryError("smtp: no SMTP host configured (KILAT_NOTIFICATION_SMTP_HOST)")
        password = self.settings.smtp_password
        try:
            await aiosmtplib.send(
                self._message(message), hostname=self.host, port=self.port,
                username=self.settings.smtp_username,
                password=password.get_secret_value() if password else None,
                start_tls=self.settings.smtp_starttls, use_tls=self.settings.smtp_use_tls,
                timeout=self.settings.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{self.name}: {type(exc).__name__}: {exc}") from exc


class ProviderChain:
    """A channel's providers in order: the first that accepts the message wins."""

    def __init__(self, channel: Channel, providers: list[Provider]) -> None:
        if not providers:
            raise ValueError(f"no provider configured for {channel}")
        self.channel = channel
        self.providers = providers

    async def send(self, message: OutboundMessage) -> str:
        """Deliver through the first provider that accepts; returns its name."""
        errors = []
        for provider in self.providers:
            try:
                await provider.send(message)
                return provider.name
            except DeliveryError as exc:
                log.warning("notification provider failed", channel=self.channel,
                            provider=provider.name, error=str(exc))
                errors.append(str(exc))
        raise DeliveryError("; ".join(errors))


def build_provider(url: str, channel: Channel, settings: NotificationSettings,
                   client: httpx.AsyncClient, sink: LogSink) -> Provider:
    if url.startswith("webhook+"):
        return WebhookProvider(url, client)
    if url.startswith("log://"):
        return sink
    if url.startswith("smtp://") and channel is Channel.EMAIL:
        return SmtpProvider(url, settings)
    raise ValueError(f"provider {url!r} cannot deliver {channel}")


def build_chains(settings: NotificationSettings, client: httpx.AsyncClient,
                 sink: LogSink) -> dict[Channel, ProviderChain]:
    urls = {Channel.PUSH: settings.push_providers, Channel.SMS: settings.sms_providers,
            Channel.EMAIL: settings.email_providers}
    return {channel: ProviderChain(channel, [build_provider(u, channel, settings, client, sink)
                                             for u in channel_urls])
            for channel, channel_urls in urls.items()}


def uses_sink(settings: NotificationSettings) -> bool:
    """Whether any channel is wired to the development sink (``log://``)."""
    return any(url.startswith("log://") for urls in
               (settings.push_providers, settings.sms_providers, settings.email_providers)
               for url in urls)
