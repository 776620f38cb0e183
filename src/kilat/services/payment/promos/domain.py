"""Promo rules without I/O: code normalisation and what a code takes off an amount."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kilat.services.payment.ledger.domain import percent_of


class DiscountType(StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


PROMO_NOT_FOUND = "promo code not found"
PROMO_UNAVAILABLE = "promo code is expired or fully used"
PROMO_ALREADY_USED = "you have already used this promo code"


def normalise_code(code: str) -> str:
    return code.strip().upper()


@dataclass(frozen=True)
class PromoTerms:
    discount_type: str
    discount_value: int
    min_amount_cents: int
    max_discount_cents: int
    max_uses: int
    current_uses: int
    valid_from: datetime
    valid_until: datetime

    def is_live(self, now: datetime) -> bool:
        in_window = self.valid_from < now < self.valid_until
        return in_window and (self.max_uses == 0 or self.current_uses < self.max_uses)

    def discount_for(self, amount_cents: int) -> int:
        if self.discount_type == DiscountType.PERCENTAGE:
            discount = percent_of(amount_cents, self.discount_value)
        else:
            discount = self.discount_value
        if self.max_discount_cents > 0:
            discount = min(discount, self.max_discount_cents)
        return min(discount, amount_cents)


@dataclass(frozen=True)
class PromoVerdict:
    valid: bool
    discount_cents: int = 0
    message: str | None = None
    exhausted: bool = False


def evaluate_promo(
    terms: PromoTerms | None, amount_cents: int, now: datetime, *, already_used: bool
) -> PromoVerdict:
    """The §3.5 checks in the order a user meets them; a valid verdict carries the discount."""
    if terms is None:
        return PromoVerdict(False, message=PROMO_NOT_FOUND)
    if not terms.is_live(now):
        return PromoVerdict(False, message=PROMO_UNAVAILABLE, exhausted=True)
    if already_used:
        return PromoVerdict(False, message=PROMO_ALREADY_USED)
    if amount_cents < terms.min_amount_cents:
        minimum = f"minimum amount of {terms.min_amount_cents} cents required"
        return PromoVerdict(False, message=minimum)
    return PromoVerdict(True, terms.discount_for(amount_cents))
