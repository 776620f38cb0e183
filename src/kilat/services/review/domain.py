"""Pure review rules: who may review whom, tags, and the rating average."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from kilat.platform.errors import BadRequest

COMPLETED = "completed"
# a booking in one of these states never changes again; late events must not revive it
TERMINAL = frozenset({"completed", "cancelled"})
# how far a booking has gone; requested and accepted share a rank (a runner may hand it back)
PROGRESS = {"requested": 0, "accepted": 0, "in_progress": 1, "delivered": 2, "completed": 3,
            "cancelled": 3}
MAX_TAGS = 10
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class ReviewerRole(StrEnum):
    OWNER = "owner"
    RUNNER = "runner"


def accepts_update(current: str, new: str | None = None) -> bool:
    """Whether a booking in ``current`` may move to ``new``: late events never revive a final one
    nor move it back behind what a direct read from the booking service already showed."""
    if current in TERMINAL:
        return False
    return new is None or PROGRESS.get(new, 0) >= PROGRESS.get(current, 0)


def reviewable(status: str, runner_id: uuid.UUID | None) -> bool:
    """Reviews open once the booking is completed (with a runner)."""
    return status == COMPLETED and runner_id is not None


def reviewer_role(user_id: uuid.UUID, owner_id: uuid.UUID | None,
                  runner_id: uuid.UUID | None) -> ReviewerRole | None:
    """The caller's side of the booking, or None when they are not a party."""
    if owner_id is not None and user_id == owner_id:
        return ReviewerRole.OWNER
    if runner_id is not None and user_id == runner_id:
        return ReviewerRole.RUNNER
    return None


def reviewee(role: ReviewerRole, owner_id: uuid.UUID, runner_id: uuid.UUID) -> uuid.UUID:
    return runner_id if role is ReviewerRole.OWNER else owner_id


def normalize_tags(tags: list[str]) -> list[str]:
    """Trimmed, lower-case, ``snake_case`` tags without duplicates, in the given order."""
    result: list[str] = []
    for raw in tags:
        tag = re.sub(r"[\s]+", "_", raw.strip().lower())
        if not _TAG.match(tag):
            raise BadRequest(f"invalid tag {raw!r}",
                             "tags are 1-32 letters, digits, '_' or '-', e.g. 'gentle_with_pets'")
        if tag not in result:
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise BadRequest(f"at most {MAX_TAGS} tags")
    return result


def average(total_stars: int, count: int) -> float:
    """Mean of the stars, rounded half up to 2 decimals; 0 when there are no reviews."""
    if count == 0:
        return 0.0
    mean = Decimal(total_stars) / Decimal(count)
    return float(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def window_closed(completed_at: datetime | None, now: datetime, window_days: int) -> bool:
    """Reviews are accepted for ``window_days`` after completion (0 means no limit)."""
    if window_days == 0 or completed_at is None:
        return False
    return now > completed_at + timedelta(days=window_days)
