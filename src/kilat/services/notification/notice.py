"""A notification before templates and preferences apply, and the rule shape that makes them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kilat.services.notification.domain import ALL_CHANNELS, Channel


@dataclass(frozen=True)
class Notice:
    """One notification to one user, before templates and preferences are applied.

    ``user_id`` None: to someone with no account yet (a number's first sign-in code), reached
    only at ``addresses``; no inbox, preferences or quiet hours apply."""

    user_id: uuid.UUID | None
    template: str
    context: dict[str, Any]
    fact_key: str | None  # None: the event carries no fact id, so its event id is the key
    booking_id: uuid.UUID | None = None
    channels: frozenset[Channel] = ALL_CHANNELS
    # sent even when the user switched the channel off (account security)
    required: frozenset[Channel] = field(default_factory=frozenset)
    # the channel text holds a secret: hidden from operators, erased once delivered
    sensitive: bool = False
    # where to reach the recipient on a channel, ahead of the preferences and contact data
    addresses: Mapping[Channel, str] = field(default_factory=dict)


Rule = Callable[[Any], list[Notice]]
