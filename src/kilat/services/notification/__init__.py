"""Notification service: every event reaches the right person, in-app and by push, SMS, email."""

from __future__ import annotations

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime
from kilat.services.notification.dispatcher import NotificationContext
from kilat.services.notification.settings import NotificationSettings

SETTINGS_KEY = "notification_settings"


def context_of(runtime: ServiceRuntime) -> NotificationContext:
    """The process-wide context; settings come from ``infra.extras`` (tests) or the environment."""
    context = runtime.state.get("notification")
    if context is None:
        settings = runtime.infra.extras.get(SETTINGS_KEY) or NotificationSettings()
        context = NotificationContext(runtime.database, settings)
        runtime.state["notification"] = context
    return context


async def _start_worker(runtime: ServiceRuntime) -> None:
    context = context_of(runtime)
    context.worker = runtime.spawn(context.dispatcher.run(), "notification-dispatcher")


async def _stop_worker(runtime: ServiceRuntime) -> None:
    await context_of(runtime).close()


def _descriptor() -> ServiceDescriptor:
    from kilat.services.notification.api import admin_router, router
    from kilat.services.notification.handlers import handlers
    from kilat.services.notification.models import metadata

    return ServiceDescriptor(
        name="notification",
        port=8006,
        title="Kilat notification service",
        routers=[router, admin_router],
        metadata=metadata,
        migrations_dir=Path(__file__).parent / "migrations",
        handlers=handlers,
        on_start=[_start_worker],
        on_stop=[_stop_worker],
    )


descriptor = _descriptor()
