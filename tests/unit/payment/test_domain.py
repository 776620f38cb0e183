"""Money rules: fee split, promo maths, subscription discount, quotes, ledger, cash-out."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kilat.services.payment.escrow.domain import (
    EscrowStatus,
    IllegalTransition,
    check_transition,
    credit_reserved_entry,
    hold_entry,
    quote_payment,
    release_entry,
    return_entry,
    split_fee,
)
from kilat.services.payment.ledger.domain import (
    PLATFORM_FEES,
    PLATFORM_PROMOTIONS,
    UnbalancedEntry,
    balance_of,
    credit_account,
    escrow_account,
    journal,
    owner_card,
    runner_account,
)
from kilat.services.payment.payouts.domain import (
    can_cash_out,
    cash_out_deadline,
    cash_out_entry,
    cash_out_eta_minutes,
    cash_out_reversed_entry,
    cash_out_settled_entry,
)
from kilat.services.payment.promos.domain import (
    PROMO_ALREADY_USED,
    PROMO_NOT_FOUND,
    PROMO_UNAVAILABLE,
    PromoTerms,
    evaluate_promo,
    normalise_code,
)
from kilat.services.payment.referrals.domain import referral_credit_entry
from kilat.services.payment.subscriptions.domain import (
    PLANS,
    subscription_discount,
    subscription_entry,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OWNER, RUNNER, PAYMENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def promo(**changes) -> PromoTerms:
    terms = dict(discount_type="percentage", discount_value=10, min_amount_cents=0,
                 max_discount_cents=0, max_uses=0, current_uses=0,
                 valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=1))
    return PromoTerms(**terms | changes)


# --- fee split ---------------------------------------------------------------------------------


def test_fee_split_of_150000_is_22500_fee_and_127500_payout():
    split = split_fee(150000, 15)
    assert (split.platform_fee_cents, split.runner_payout_cents) == (22500, 127500)


def test_fee_is_floored_and_payout_takes_the_remainder():
    split = split_fee(4423, 15)
    assert (split.platform_fee_cents, split.runner_payout_cents) == (663, 3760)


def test_fee_percent_may_be_fractional():
    assert split_fee(1000, Decimal("12.5")).platform_fee_cents == 125
    assert split_fee(999, Decimal("12.5")).platform_fee_cents == 124


def test_zero_percent_fee_pays_the_runner_everything():
    assert split_fee(4423, 0).runner_payout_cents == 4423


# --- promo maths --------------------------------------------------------------------------------


def test_percentage_promo_is_floored():
    verdict = evaluate_promo(promo(discount_value=10), 1505, NOW, already_used=False)
    assert verdict.valid and verdict.discount_cents == 150


def test_fixed_promo_takes_its_value():
    verdict = evaluate_promo(promo(discount_type="fixed", discount_value=700), 4423, NOW,
                             already_used=False)
    assert verdict.discount_cents == 700


def test_discount_is_capped_by_max_discount():
    verdict = evaluate_promo(promo(discount_value=50, max_discount_cents=1000), 4423, NOW,
                             already_used=False)
    assert verdict.discount_cents == 1000


def test_fixed_discount_never_exceeds_the_amount():
    verdict = evaluate_promo(promo(discount_type="fixed", discount_value=9000), 4423, NOW,
                             already_used=False)
    assert verdict.discount_cents == 4423


def test_amount_below_minimum_is_refused_with_the_minimum_in_the_message():
    verdict = evaluate_promo(promo(min_amount_cents=5000), 4423, NOW, already_used=False)
    assert not verdict.valid and verdict.discount_cents == 0
    assert verdict.message == "minimum amount of 5000 cents required"


def test_amount_equal_to_minimum_is_accepted():
    assert evaluate_promo(promo(min_amount_cents=4423), 4423, NOW, already_used=False).valid


def test_unknown_code_is_not_found():
    assert evaluate_promo(None, 4423, NOW, already_used=False).message == PROMO_NOT_FOUND


@pytest.mark.parametrize("changes", [
    {"valid_from": NOW + timedelta(seconds=1)},
    {"valid_until": NOW},
    {"valid_from": NOW},
    {"max_uses": 10, "current_uses": 10},
])
def test_promo_outside_its_window_or_fully_used_is_unavailable(changes):
    verdict = evaluate_promo(promo(**changes), 4423, NOW, already_used=False)
    assert not verdict.valid and verdict.exhausted and verdict.message == PROMO_UNAVAILABLE


def test_zero_max_uses_means_unlimited():
    assert evaluate_promo(promo(max_uses=0, current_uses=10_000), 4423, NOW,
                          already_used=False).valid


def test_promo_already_used_by_the_user_is_refused():
    verdict = evaluate_promo(promo(), 4423, NOW, already_used=True)
    assert verdict.message == PROMO_ALREADY_USED


def test_codes_are_trimmed_and_upper_cased():
    assert normalise_code("  save10 ") == "SAVE10"


# --- subscriptions and quotes -------------------------------------------------------------------


def test_plans_match_the_contract():
    basic, premium = PLANS["basic"], PLANS["premium"]
    assert (basic.price_cents, basic.duration_days, basic.discount_percent) == (1990, 30, 5)
    assert (premium.price_cents, premium.duration_days, premium.discount_percent) == (4990, 30, 15)
    assert premium.priority_matching and not basic.priority_matching


def test_plan_window_is_its_duration_from_start():
    assert PLANS["basic"].window(NOW) == (NOW, NOW + timedelta(days=30))


def test_subscription_discount_is_a_floored_percentage():
    assert subscription_discount(4423, 5) == 221
    assert subscription_discount(4423, 15) == 663


def test_quote_applies_subscription_then_promo_then_credit():
    quote = quote_payment(4423, fee_percent=15, subscription_percent=5, promo_discount_cents=442,
                          credit_available_cents=500)
    assert (quote.subscription_discount_cents, quote.promo_discount_cents) == (221, 442)
    assert quote.credit_applied_cents == 500
    assert quote.charged_cents == 4423 - 221 - 442 - 500


def test_runner_payout_is_on_the_booking_price_whatever_the_discounts():
    quote = quote_payment(150000, fee_percent=15, subscription_percent=15,
                          promo_discount_cents=5000, credit_available_cents=500)
    assert (quote.platform_fee_cents, quote.runner_payout_cents) == (22500, 127500)


def test_credit_only_covers_what_discounts_leave():
    quote = quote_payment(1000, fee_percent=15, promo_discount_cents=800,
                          credit_available_cents=500)
    assert quote.credit_applied_cents == 200 and quote.charged_cents == 0


def test_promo_is_capped_by_what_the_subscription_leaves():
    quote = quote_payment(1000, fee_percent=15, subscription_percent=15, promo_discount_cents=1000)
    assert quote.promo_discount_cents == 850 and quote.charged_cents == 0


# --- ledger ------------------------------------------------------------------------------------


def test_an_unbalanced_entry_cannot_be_built():
    with pytest.raises(UnbalancedEntry):
        journal("bad", "bad:1", ("a", 100), ("b", -99))


def test_zero_postings_are_left_out():
    assert journal("noop", "noop:1", ("a", 0), ("b", 0)).postings == ()


def test_every_money_movement_balances_and_a_paid_booking_leaves_escrow_empty():
    quote = quote_payment(150000, fee_percent=15, promo_discount_cents=1000,
                          credit_available_cents=500)
    entries = [
        referral_credit_entry(uuid.uuid4(), OWNER, "referee", 500),
        credit_reserved_entry(PAYMENT, OWNER, quote.credit_applied_cents, 1),
        hold_entry(PAYMENT, OWNER, quote, 1),
        release_entry(PAYMENT, RUNNER, quote),
    ]
    assert all(sum(p.amount_cents for p in e.postings) == 0 for e in entries)
    assert balance_of(escrow_account(PAYMENT), entries) == 0
    assert balance_of(runner_account(RUNNER), entries) == 127500
    assert balance_of(PLATFORM_FEES, entries) == 22500
    assert balance_of(owner_card(OWNER), entries) == -(150000 - 1000 - 500)
    assert balance_of(PLATFORM_PROMOTIONS, entries) == -1500
    assert balance_of(credit_account(OWNER), entries) == 0


def test_a_refund_gives_back_card_money_discount_and_credit():
    quote = quote_payment(4423, fee_percent=15, promo_discount_cents=442,
                          credit_available_cents=500)
    entries = [
        referral_credit_entry(uuid.uuid4(), OWNER, "referee", 500),
        credit_reserved_entry(PAYMENT, OWNER, quote.credit_applied_cents, 1),
        hold_entry(PAYMENT, OWNER, quote, 1),
        return_entry("refund", PAYMENT, OWNER, charged=quote.charged_cents,
                     discount=quote.discount_cents, credit=quote.credit_applied_cents, attempt=1),
    ]
    assert balance_of(escrow_account(PAYMENT), entries) == 0
    assert balance_of(owner_card(OWNER), entries) == 0
    assert balance_of(credit_account(OWNER), entries) == 500


def test_a_subscription_moves_the_price_from_card_to_platform():
    entry = subscription_entry(uuid.uuid4(), OWNER, 4990)
    assert balance_of(owner_card(OWNER), [entry]) == -4990


def test_cash_out_balance_counts_only_released_payouts_less_open_cash_outs_with_fees():
    """The spec's 39850 case: 42500 released, a 2600 cash-out open (+50 fee), one failed."""
    first = quote_payment(30000, fee_percent=15)
    second = quote_payment(20000, fee_percent=15)
    held = quote_payment(10000, fee_percent=15)
    failed_id, second_id = uuid.uuid4(), uuid.uuid4()
    entries = [
        hold_entry(PAYMENT, OWNER, first, 1), release_entry(PAYMENT, RUNNER, first),
        hold_entry(second_id, OWNER, second, 1), release_entry(second_id, RUNNER, second),
        hold_entry(uuid.uuid4(), OWNER, held, 1),
        cash_out_entry(uuid.uuid4(), runner_account(RUNNER), 2600, 50),
        cash_out_entry(failed_id, runner_account(RUNNER), 5000, 50),
        cash_out_reversed_entry(failed_id, runner_account(RUNNER), 5000, 50),
    ]
    assert first.runner_payout_cents + second.runner_payout_cents == 42500
    assert balance_of(runner_account(RUNNER), entries) == 39850


def test_a_settled_cash_out_leaves_nothing_in_transit():
    cash_out_id = uuid.uuid4()
    entries = [cash_out_entry(cash_out_id, runner_account(RUNNER), 1000, 50),
               cash_out_settled_entry(cash_out_id, 1000)]
    assert balance_of("payouts:in_transit", entries) == 0
    assert balance_of("bank:payouts", entries) == 1000


@pytest.mark.parametrize(("amount", "balance", "allowed"), [
    (1000, 1050, True), (1000, 1049, False), (0, 5000, False), (39800, 39850, True),
])
def test_cash_out_needs_amount_plus_fee_within_balance(amount, balance, allowed):
    assert can_cash_out(amount, 50, balance) is allowed


def test_cash_out_eta_is_whole_minutes_of_the_rail_delay():
    assert cash_out_eta_minutes(30) == 1
    assert cash_out_eta_minutes(61) == 2
    assert cash_out_eta_minutes(0.2) == 1


def test_cash_out_deadline_is_twice_the_delay_but_at_least_ten_seconds():
    assert cash_out_deadline(30) == timedelta(seconds=60)
    assert cash_out_deadline(1) == timedelta(seconds=10)


# --- escrow states -------------------------------------------------------------------------------


ALLOWED_ESCROW_TRANSITIONS = {
    ("pending", "held"), ("pending", "failed"), ("held", "released"), ("held", "refunded"),
    ("held", "failed"), ("failed", "pending"),
}


def test_exactly_the_allowed_escrow_transitions_pass():
    passing = set()
    for current, target in itertools.product(EscrowStatus, repeat=2):
        try:
            check_transition(current, target)
        except IllegalTransition:
            continue
        passing.add((current.value, target.value))
    assert passing == ALLOWED_ESCROW_TRANSITIONS


@pytest.mark.parametrize(("current", "target"), [
    ("pending", "released"), ("released", "refunded"), ("refunded", "held"), ("held", "pending"),
])
def test_illegal_escrow_transitions_are_refused(current, target):
    with pytest.raises(IllegalTransition, match=f"from '{current}' to '{target}'"):
        check_transition(current, target)
