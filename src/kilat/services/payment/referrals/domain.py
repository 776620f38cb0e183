"""Referral rules without I/O: the credit's ledger entry."""

from __future__ import annotations

import uuid

from kilat.services.payment.ledger.domain import (
    PLATFORM_PROMOTIONS,
    JournalEntry,
    credit_account,
    journal,
)


def referral_credit_entry(referral_id: uuid.UUID, user_id: uuid.UUID, role: str,
                          amount: int) -> JournalEntry:
    return journal("referral_credit", f"referral:{referral_id}:{role}",
                   (PLATFORM_PROMOTIONS, -amount), (credit_account(user_id), amount))
