"""Who changed what: ``api_audit_logs`` rows for every state change and admin action."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.services.parcels.models import AuditLog

# personal or secret values never reach the audit log, only the fact that they changed
SENSITIVE = frozenset({"full_name", "email", "phone", "contact_name", "contact_phone", "line1",
                       "line2", "postal_code", "recipient_name", "secret", "session_token",
                       "proof_photo_url", "proof_photo_key", "payment_method", "latitude",
                       "longitude", "pickup", "dropoff"})
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    role: str
    request_id: str | None = None
    ip: str | None = None

    @classmethod
    def of(cls, user: Principal, request: Request | None = None) -> Actor:
        if request is None:
            return cls(user.user_id, user.role)
        client = request.client.host if request.client else None
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        return cls(user.user_id, user.role, request.scope.get("state", {}).get("request_id"),
                   forwarded or client)


SYSTEM = Actor(None, "system")


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Enum):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def clean(changes: dict[str, Any]) -> dict[str, Any]:
    return {key: REDACTED if key in SENSITIVE else _plain(value) for key, value in changes.items()}


def audit(session: AsyncSession, actor: Actor, action: str, table: str, target: Any,
          changes: dict[str, Any] | None = None) -> None:
    session.add(AuditLog(actor_id=actor.user_id, actor_role=actor.role, action=action,
                         table_name=table, target_id=str(target), request_id=actor.request_id,
                         ip=actor.ip, changes=clean(changes or {})))
