"""A notification before templates and preferences apply, and the rule shape that makes them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kilat.services.notification.domain import ALL_CHANNELS, Channel


@dataclass(frozen=True)
class Notice:
    """One notification to one user, before templates and preferences are applied."""

    user_id: uuid.UUID
    template: str
    context: dict[str, Any]
    fact_key: str | None  # None: the event carries no fact id, so its event id is the key
    booking_id: uuid.UUID | None = None
    channels: frozenset[Channel] = ALL_CHANNELS
    # sent even when the user switched the channel off (account security)
    required: frozenset[Channel] = field(default_factory=frozenset)
    # the channel text holds a secret: hidden from operators, erased once delivered
    sensitive: bool = False


Rule = Callable[[Any], list[Notice]]
