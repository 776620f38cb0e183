"""The ledger check an admin reads."""

from __future__ import annotations

from kilat.platform.schemas import Schema


class LedgerReport(Schema):
    balanced: bool
    entries: int
    postings: int
    total_cents: int
    unbalanced_entries: list[str]
    escrow_mismatches: list[dict]
    negative_balances: dict[str, int]
