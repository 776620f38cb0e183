"""Review service: owners and runners rate each other once per completed booking."""

from __future__ import annotations

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor


def _descriptor() -> ServiceDescriptor:
    from kilat.services.review.api import admin_router, router
    from kilat.services.review.context import review_context
    from kilat.services.review.handlers import handlers
    from kilat.services.review.models import metadata
    from kilat.services.review.settings import ReviewSettings

    return ServiceDescriptor(
        name="review",
        port=8007,
        title="Kilat review service",
        routers=[router, admin_router],
        metadata=metadata,
        migrations_dir=Path(__file__).parent / "migrations",
        handlers=handlers,
        settings=ReviewSettings,
        context=review_context,
    )


descriptor = _descriptor()
