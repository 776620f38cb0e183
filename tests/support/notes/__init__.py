"""A tiny service used only to test the kernel (outbox, inbox, locking, envelope)."""

from pathlib import Path

from tests.support.notes.api import router
from tests.support.notes.handlers import handlers
from tests.support.notes.models import metadata

from kilat.platform.runtime import ServiceDescriptor

descriptor = ServiceDescriptor(
    name="notes",
    port=8099,
    title="Kilat notes (kernel test service)",
    routers=[router],
    metadata=metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    handlers=handlers,
)
