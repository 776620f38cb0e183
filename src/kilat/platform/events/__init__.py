"""Events: CloudEvents envelope, transactional outbox, relay, inbox and bus adapters."""

from kilat.platform.events.envelope import Event, new_event
from kilat.platform.events.outbox import record_event

__all__ = ["Event", "new_event", "record_event"]
