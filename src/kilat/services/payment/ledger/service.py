"""The double-entry ledger: every money movement is posted here, balances are derived from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.services.payment.escrow.domain import EscrowStatus
from kilat.services.payment.escrow.repository import EscrowRepository
from kilat.services.payment.ledger.domain import JournalEntry, escrow_account
from kilat.services.payment.ledger.repository import LedgerRepository


async def post(session: AsyncSession, entry: JournalEntry, currency: str) -> bool:
    """Post ``entry`` once; a repeat of the same reference is ignored (returns False)."""
    repo = LedgerRepository(session)
    if not entry.postings or await repo.has_entry(entry.reference):
        return False
    await repo.add_entry(entry, currency)
    return True


@dataclass
class LedgerReport:
    balanced: bool
    entries: int
    postings: int
    total_cents: int
    unbalanced_entries: list[str] = field(default_factory=list)
    escrow_mismatches: list[dict] = field(default_factory=list)
    negative_balances: dict[str, int] = field(default_factory=dict)


async def check(session: AsyncSession) -> LedgerReport:
    """Prove the books: every entry and all accounts sum to zero, escrow matches payments."""
    repo = LedgerRepository(session)
    entries, postings, total = await repo.ledger_totals()
    unbalanced = await repo.unbalanced_entries()
    mismatches = await _escrow_mismatches(repo, EscrowRepository(session))
    negative = {account: amount
                for prefix in ("runner:", "payee:", "credit:")
                for account, amount in (await repo.nonzero_balances(prefix)).items() if amount < 0}
    balanced = total == 0 and not unbalanced and not mismatches and not negative
    return LedgerReport(balanced, entries, postings, total, unbalanced, mismatches, negative)


async def _escrow_mismatches(repo: LedgerRepository, payments: EscrowRepository) -> list[dict]:
    """Escrow holds the price of each held payment, the reserved credit of a pending one, else 0."""
    expected = {}
    for payment in await payments.open_payments():
        held = payment.escrow_status == EscrowStatus.HELD
        expected[escrow_account(payment.id)] = (
            payment.amount_cents if held else payment.credit_applied_cents)
    actual = await repo.nonzero_balances("escrow:")
    return [{"account": account, "expected_cents": expected.get(account, 0),
             "actual_cents": actual.get(account, 0)}
            for account in sorted(set(expected) | set(actual))
            if expected.get(account, 0) != actual.get(account, 0)]
