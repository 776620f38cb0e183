"""CloudEvents 1.0 JSON envelope used on every bus."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from kilat.contracts import by_type
from kilat.platform.models import utcnow


class Event(BaseModel):
    specversion: str = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str
    type: str
    time: datetime = Field(default_factory=utcnow)
    subject: str | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)
    _payload: Any = PrivateAttr(default=None)

    @property
    def payload(self) -> Any:
        """``data`` parsed by the contract of ``type`` (kilat.contracts); a payload that does not
        fit its contract raises ``ValidationError``, a type without one ``LookupError``."""
        if self._payload is None:
            self._payload = by_type(self.type).model_validate(self.data)
        return self._payload

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        return cls.model_validate_json(raw)


EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def new_event(type: str, data: dict[str, Any], *, source: str, subject: str | None = None,
              event_id: uuid.UUID | None = None) -> Event:
    """A new event; its type must be dotted lower-case words so every bus can route it."""
    if not EVENT_TYPE.match(type):
        raise ValueError(f"invalid event type {type!r}: use dotted lower-case words")
    if event_id is None:
        return Event(type=type, source=source, subject=subject, data=data)
    return Event(id=event_id, type=type, source=source, subject=subject, data=data)


def matches(pattern: str, event_type: str) -> bool:
    """``booking.*`` matches ``booking.accepted``; ``*`` matches everything."""
    if pattern in ("*", ">"):
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type
