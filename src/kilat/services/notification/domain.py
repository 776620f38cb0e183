"""Pure notification rules: channels, statuses, quiet hours, retry backoff, money."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES = ("en", "ms")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Channel(StrEnum):
    PUSH = "push"
    SMS = "sms"
    EMAIL = "email"


ALL_CHANNELS = frozenset(Channel)
# Quiet hours hold back what buzzes a phone; email and the in-app record still land.
DEFERRABLE = frozenset({Channel.PUSH, Channel.SMS})


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DEFERRED = "deferred"
    SENT = "sent"
    FAILED = "failed"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    PARTIALLY_SENT = "partially_sent"
    FAILED = "failed"


def format_money(cents: int) -> str:
    """``1234`` → ``RM 12.34`` (the original's ``RM %.2f`` without float rounding)."""
    sign = "-" if cents < 0 else ""
    whole, sen = divmod(abs(int(cents)), 100)
    return f"RM {sign}{whole}.{sen:02d}"


def format_distance(km: float) -> str:
    return f"{float(km):.1f}"


def parse_hhmm(value: str) -> time:
    match = _HHMM.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a time of day in HH:MM (00:00-23:59)")
    return time(int(match[1]), int(match[2]))


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Asia/Kuala_Lumpur") from exc


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether ``local`` falls in [start, end); a window with start > end spans midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(now: datetime, start: time | None, end: time | None,
                    zone: ZoneInfo) -> datetime | None:
    """When the quiet window around ``now`` ends (aware UTC), or None when ``now`` is not quiet."""
    if start is None or end is None:
        return None
    local = now.astimezone(zone)
    if not in_quiet_hours(local.time().replace(tzinfo=None), start, end):
        return None
    day = local.date() if local.time().replace(tzinfo=None) < end else local.date() + timedelta(days=1)
    ends = datetime.combine(day, end, tzinfo=zone)
    return ends.astimezone(now.tzinfo)


def retry_delay_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff after failed attempt number ``attempt`` (1-based): base, 2·base, 4·base…"""
    return min(cap, base * 2 ** max(attempt - 1, 0))


def is_exhausted(attempts: int, max_retries: int) -> bool:
    """A delivery gets one first attempt plus ``max_retries`` retries."""
    return attempts > max_retries


def aggregate_status(statuses: Iterable[DeliveryStatus]) -> NotificationStatus:
    """The notification's status from its channel deliveries (in-app alone counts as sent)."""
    statuses = list(statuses)
    if any(s in (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED) for s in statuses):
        return NotificationStatus.PENDING
    sent = sum(s == DeliveryStatus.SENT for s in statuses)
    if sent == len(statuses):
        return NotificationStatus.SENT
    return NotificationStatus.PARTIALLY_SENT if sent else NotificationStatus.FAILED


def choose_channels(wanted: frozenset[Channel], required: frozenset[Channel],
                    switches: dict[Channel, bool],
                    addresses: dict[Channel, str | None]) -> list[tuple[Channel, str]]:
    """Channels to deliver on: wanted by the event, switched on (or required), address known."""
    return [(channel, addresses[channel]) for channel in Channel
            if channel in wanted and (switches[channel] or channel in required)
            and addresses.get(channel)]
