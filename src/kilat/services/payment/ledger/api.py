"""The admin's ledger check."""

from __future__ import annotations

from fastapi import APIRouter

from kilat.platform.auth import RequireRole
from kilat.platform.http import Session
from kilat.platform.schemas import (
    Envelope,
    error_responses,
    ok,
)
from kilat.services.payment.ledger import schemas
from kilat.services.payment.ledger import service as ledger

admin = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Admin = RequireRole("admin")


@admin.get("/payments/ledger", response_model=Envelope[schemas.LedgerReport],
           responses=error_responses(401, 403))
async def ledger_check(session: Session, user: Admin) -> dict:
    """The books: balanced when every entry and all accounts sum to zero and escrow matches."""
    report = await ledger.check(session)
    return ok(schemas.LedgerReport.model_validate(report))


routers = [admin]
