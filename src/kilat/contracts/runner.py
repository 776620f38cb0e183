"""Events the runner service publishes (``runner_id`` is the runner's identity user id)."""

from __future__ import annotations

import uuid

from kilat.contracts.base import Contract, Time


class RunnerOnline(Contract):
    TYPE = "runner.online"
    SUBJECT = "runner_id"

    runner_id: uuid.UUID
    runner_profile_id: uuid.UUID | None = None
    latitude: float | None = None
    longitude: float | None = None
    occurred_at: Time | None = None


class RunnerOffline(Contract):
    TYPE = "runner.offline"
    SUBJECT = "runner_id"

    runner_id: uuid.UUID
    runner_profile_id: uuid.UUID | None = None
    reason: str | None = None
    occurred_at: Time | None = None
