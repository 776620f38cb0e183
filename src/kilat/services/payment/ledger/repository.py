"""Queries of the ledger: entries, postings, balances."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select, text

from kilat.platform.repository import Repository
from kilat.services.payment.ledger.domain import PLATFORM_ACCOUNTS, JournalEntry
from kilat.services.payment.models import (
    LedgerEntry,
    LedgerPosting,
)


class LedgerRepository(Repository):
    """Queries of the ledger: entries, postings, balances."""

    async def lock_account(self, account: str) -> None:
        """Serialise spenders of one ledger account (SQLite's write lock already does)."""
        if self.is_postgres:
            key = int.from_bytes(hashlib.sha256(account.encode()).digest()[:8], "big", signed=True)
            await self.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    async def has_entry(self, reference: str) -> bool:
        query = select(LedgerEntry.id).where(LedgerEntry.reference == reference)
        return await self.session.scalar(query) is not None

    async def add_entry(self, entry: JournalEntry, currency: str) -> None:
        row = LedgerEntry(kind=entry.kind, reference=entry.reference, currency=currency)
        self.session.add(row)
        await self.session.flush()
        self.session.add_all(LedgerPosting(entry_id=row.id, account=p.account,
                                           amount_cents=p.amount_cents) for p in entry.postings)
        await self.session.flush()

    async def balance(self, account: str) -> int:
        query = select(func.coalesce(func.sum(LedgerPosting.amount_cents), 0)).where(
            LedgerPosting.account == account)
        return int(await self.session.scalar(query) or 0)

    async def accounts_under(self, prefix: str) -> list[str]:
        """Every account named ``prefix…`` with a posting, sorted."""
        query = (select(LedgerPosting.account).where(LedgerPosting.account.startswith(prefix))
                 .distinct().order_by(LedgerPosting.account))
        return list(await self.session.scalars(query))

    async def nonzero_balances(self, prefix: str) -> dict[str, int]:
        total = func.sum(LedgerPosting.amount_cents)
        rows = await self.session.execute(
            select(LedgerPosting.account, total)
            .where(LedgerPosting.account.startswith(prefix))
            .group_by(LedgerPosting.account).having(total != 0))
        return {account: int(amount) for account, amount in rows}

    async def platform_revenue(self) -> int:
        query = select(func.coalesce(func.sum(LedgerPosting.amount_cents), 0)).where(
            LedgerPosting.account.in_(PLATFORM_ACCOUNTS))
        return int(await self.session.scalar(query) or 0)

    async def ledger_totals(self) -> tuple[int, int, int]:
        entries = await self.session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        postings, total = (await self.session.execute(
            select(func.count(), func.coalesce(func.sum(LedgerPosting.amount_cents), 0))
        )).one()
        return entries, postings, int(total)

    async def unbalanced_entries(self) -> list[str]:
        query = (select(LedgerEntry.reference)
                 .join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
                 .group_by(LedgerEntry.id, LedgerEntry.reference)
                 .having(func.sum(LedgerPosting.amount_cents) != 0))
        return list(await self.session.scalars(query))
