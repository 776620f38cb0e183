"""Settings validation and the provider chain's fallback, with fake providers."""

import httpx
import pytest
from pydantic import ValidationError

from kilat.services.notification.domain import Channel
from kilat.services.notification.providers import (
    DeliveryError,
    LogSink,
    OutboundMessage,
    ProviderChain,
    SmtpProvider,
    WebhookProvider,
    build_chains,
)
from kilat.services.notification.settings import NotificationSettings

MESSAGE = OutboundMessage(Channel.PUSH, "token", "Title", "Body")


class Refusing:
    name = "refusing://"

    def __init__(self):
        self.calls = 0

    async def send(self, message):
        self.calls += 1
        raise DeliveryError("refused")


def test_provider_lists_are_read_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv("KILAT_NOTIFICATION_PUSH_PROVIDERS",
                       '["webhook+https://fcm.example/send","log://"]')
    monkeypatch.setenv("KILAT_NOTIFICATION_SMTP_HOST", "mail.example")
    settings = NotificationSettings()
    assert settings.push_providers == ["webhook+https://fcm.example/send", "log://"]
    assert settings.email_providers == ["smtp://"]


def test_email_falls_back_to_the_log_sink_without_an_smtp_host(monkeypatch):
    monkeypatch.delenv("KILAT_NOTIFICATION_SMTP_HOST", raising=False)
    assert NotificationSettings(smtp_host="").email_providers == ["log://"]


def test_unknown_provider_scheme_is_refused():
    with pytest.raises(ValidationError, match="unsupported provider URL"):
        NotificationSettings(sms_providers=["twilio://x"])


async def test_smtp_cannot_carry_push():
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match="cannot deliver push"):
            build_chains(NotificationSettings(push_providers=["smtp://"]), client, LogSink())


async def test_chain_uses_the_first_provider_that_accepts():
    refusing, sink = Refusing(), LogSink()
    assert await ProviderChain(Channel.PUSH, [refusing, sink]).send(MESSAGE) == "log://"
    assert refusing.calls == 1 and list(sink.sent) == [MESSAGE]


async def test_chain_fails_when_every_provider_refuses():
    with pytest.raises(DeliveryError, match="refused; refused"):
        await ProviderChain(Channel.PUSH, [Refusing(), Refusing()]).send(MESSAGE)


async def test_webhook_name_hides_credentials_and_refusal_is_a_delivery_error():
    transport = httpx.MockTransport(lambda request: httpx.Response(500, text="boom"))
    async with httpx.AsyncClient(transport=transport) as client:
        hook = WebhookProvider("webhook+https://user:secret@sms.example:8443/v1/send", client)
        assert hook.name == "webhook+https://sms.example:8443/v1/send"
        with pytest.raises(DeliveryError, match="HTTP 500"):
            await hook.send(MESSAGE)


async def test_smtp_without_a_host_is_a_delivery_error_not_a_crash():
    with pytest.raises(DeliveryError, match="no SMTP host"):
        await SmtpProvider("smtp://", NotificationSettings(smtp_host="")).send(MESSAGE)
