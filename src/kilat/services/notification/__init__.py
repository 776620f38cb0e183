"""Notification service: every event reaches the right person, in-app and by push, SMS, email."""

from __future__ import annotations

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime


async def _start_worker(runtime: ServiceRuntime) -> None:
    context = runtime.context
    context.worker = runtime.spawn(context.dispatcher.run(), "notification-dispatcher")


async def _stop_worker(runtime: ServiceRuntime) -> None:
    await runtime.context.close()


def _descriptor() -> ServiceDescriptor:
    from kilat.services.notification.api import admin_router, router
    from kilat.services.notification.context import notification_context
    from kilat.services.notification.handlers import handlers
    from kilat.services.notification.models import metadata
    from kilat.services.notification.settings import NotificationSettings

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
        settings=NotificationSettings,
        context=notification_context,
    )


descriptor = _descriptor()
