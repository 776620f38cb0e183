"""Notification test kit: the service with test settings, real webhook and SMTP servers, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kilat.platform.events import Event
from kilat.platform.runtime import Infrastructure
from kilat.services.notification import descriptor
from kilat.services.notification.settings import NotificationSettings
from tests.support.harness import free_port, running_service, wait_for
from tests.support.people import Person, person

FAST = {"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, "worker_poll_seconds": 0.05}


@asynccontextmanager
async def notification_service(infra: Infrastructure, *, database_url: str | None = None,
                               **settings):
    infra.service_settings["notification"] = NotificationSettings(**(FAST | settings))
    async with running_service(descriptor, infra, database_url=database_url) as (runtime, client):
        yield runtime, client


async def publish(infra: Infrastructure, type: str, data: dict, source: str | None = None) -> Event:
    event = Event(source=source or type.split(".")[0], type=type, data=data)
    await infra.bus.publish(event)
    return event


async def announce_user(infra: Infrastructure, role: str, *, name: str = "Aisyah",
                        email: str | None = None, phone: str = "+60123456789") -> Person:
    """A user as identity announces them (the notification service learns the contact)."""
    user = person(infra, role, email=email)
    await publish(infra, "identity.user_registered",
                  {"user_id": user.id, "email": user.email, "full_name": name, "phone": phone,
                   "role": role, "referral_code_used": None})
    return user


async def inbox(client, person: Person, **params) -> list[dict]:
    response = await client.get("/api/v1/notifications", headers=person.headers,
                                params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def wait_inbox(client, person: Person, event_type: str, timeout: float = 5.0) -> dict:
    async def found():
        return next((n for n in await inbox(client, person) if n["event_type"] == event_type), None)

    return await wait_for(found, timeout)


@dataclass
class WebhookServer:
    """A real HTTP server that plays an FCM/SMS gateway; it can refuse the first N requests."""

    fail_first: int = 0
    always_fail: bool = False
    received: list[dict] = field(default_factory=list)
    calls: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        return f"webhook+http://127.0.0.1:{self.port}/send"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/send")
        async def send(request: Request):
            self.calls += 1
            if self.always_fail or self.calls <= self.fail_first:
                return JSONResponse({"error": "gateway unavailable"}, status_code=503)
            self.received.append(await request.json())
            return {"accepted": True}

        return app


@asynccontextmanager
async def webhook_server(**options) -> AsyncIterator[WebhookServer]:
    hook = WebhookServer(**options)
    hook.port = free_port()
    server = uvicorn.Server(uvicorn.Config(hook.app(), host="127.0.0.1", port=hook.port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: _true(server.started))
    try:
        yield hook
    finally:
        server.should_exit = True
        await task


async def _true(value: bool) -> bool:
    return value


class MailBox:
    """aiosmtpd handler keeping every message the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[MailBox, int]]:
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    await asyncio.to_thread(controller.start)
    try:
        yield box, controller.port
    finally:
        await asyncio.to_thread(controller.stop)
