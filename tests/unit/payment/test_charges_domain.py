"""The verticals' charges without I/O: what a request must satisfy, refund caps, the ledger
rule (the payee keeps the share, the platform refunds in proportion), payee balances."""

import uuid
from dataclasses import dataclass

import pytest

from kilat.contracts.charges import RailRefundRequested, RideChargeRequested
from kilat.services.payment.charges.domain import (
    ChargeStatus,
    Split,
    capture_entry,
    charge_refusal,
    refund_entry,
    refund_refusal,
    refundable,
)
from kilat.services.payment.ledger.domain import balance_of, payee_account
from kilat.services.payment.payouts.domain import (
    balance_account,
    cash_out_entry,
    cash_out_fee,
    cash_out_settled_entry,
    payee_currency,
)

PAYER, PAYEE, CHARGE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def request(**fields) -> RideChargeRequested:
    terms = dict(charge_id=CHARGE, source="rides", reference_id=uuid.uuid4(), payer_id=PAYER,
                 amount=10000, currency="IDR", payee_id=PAYEE, payee_amount=9500, fee_amount=500)
    return RideChargeRequested(**terms | fields)


@dataclass
class StoredCharge:
    status: str = ChargeStatus.CAPTURED
    source: str = "rail"
    currency: str = "BDT"
    amount: int = 50000
    refunded_total: int = 0
    refund_reserved: int = 0


def refund(amount: int, **fields) -> RailRefundRequested:
    return RailRefundRequested(**dict(refund_id=uuid.uuid4(), charge_id=CHARGE, source="rail",
                                      reference_id=uuid.uuid4(), amount=amount,
                                      currency="BDT") | fields)


def test_a_split_within_the_amount_is_accepted_and_the_rest_is_the_platforms():
    assert charge_refusal(request()) is None
    assert charge_refusal(request(payee_amount=9000, fee_amount=500)) is None
    assert charge_refusal(request(payee_id=None, payee_amount=0, fee_amount=0)) is None


@pytest.mark.parametrize(("fields", "reason"), [
    ({"payee_amount": 9600}, "payee_amount 9600 + fee_amount 500 exceeds amount 10000"),
    ({"payee_id": None}, "payee_amount without a payee_id"),
    ({"currency": "idr"}, "invalid currency 'idr'"),
    ({"currency": "RUPIAH"}, "invalid currency 'RUPIAH'"),
    ({"amount": 2**63, "payee_amount": 0}, "amount is too large"),
    ({"payment_method": "x" * 61}, "invalid payment_method"),
    ({"payment_method": ""}, "invalid payment_method"),
])
def test_a_request_breaking_the_rules_is_refused_with_the_reason(fields, reason):
    assert charge_refusal(request(**fields)) == reason


def test_the_capture_entry_balances_and_credits_the_payee_and_the_platform():
    split = Split(10000, 9000, 500)
    entry = capture_entry(CHARGE, PAYER, PAYEE, split, "IDR")
    entries = [entry]
    assert balance_of(f"card:{PAYER}:IDR", entries) == -10000
    assert balance_of(f"payee:{PAYEE}:IDR", entries) == 9000
    assert balance_of("platform:fees:IDR", entries) == 1000  # the fee and the rest
    assert entry.reference == f"charge:{CHARGE}"


def test_a_charge_without_a_payee_is_all_platform_revenue():
    entry = capture_entry(CHARGE, PAYER, None, Split(700, 0, 0), "USD")
    assert {p.account: p.amount_cents for p in entry.postings} == {
        f"card:{PAYER}:USD": -700, "platform:fees:USD": 700}


def test_refunds_reverse_the_platforms_take_in_proportion_and_exactly_in_total():
    split = Split(amount=1001, payee_amount=667, fee_amount=300)  # the platform took 334
    entries, before = [], 0
    for amount in (333, 333, 335):
        entries.append(refund_entry(uuid.uuid4(), PAYER, split, "BDT",
                                    refunded_before=before, amount=amount))
        before += amount
    fees = [-p.amount_cents for e in entries for p in e.postings if p.account == "platform:fees:BDT"]
    assert sum(fees) == 334 and all(110 <= f <= 112 for f in fees)
    assert balance_of("platform:payee_refunds:BDT", entries) == -667
    assert balance_of(f"card:{PAYER}:BDT", entries) == 1001


def test_refundable_is_the_amount_less_refunds_done_and_under_way():
    assert refundable(50000, 20000, 10000) == 20000
    assert refundable(50000, 50000, 0) == 0
    assert refundable(100, 80, 40) == 0


@pytest.mark.parametrize(("charge", "source", "asked", "reason"), [
    (StoredCharge(), "rail", refund(50000), None),
    (StoredCharge(status=ChargeStatus.REQUESTED), "rail", refund(100), None),
    (StoredCharge(refunded_total=30000, refund_reserved=20000), "rail", refund(1),
     "refund of 1 exceeds the 0 BDT left to refund"),
    (StoredCharge(refunded_total=20000), "rail", refund(30001),
     "refund of 30001 exceeds the 30000 BDT left to refund"),
    (None, "rail", refund(1), "unknown charge"),
    (StoredCharge(status=ChargeStatus.FAILED), "rail", refund(1), "the charge was not captured"),
    (StoredCharge(), "parcels", refund(1), "the charge belongs to rail"),
    (StoredCharge(), "rail", refund(1, currency="IDR"), "the charge is in BDT"),
])
def test_a_refund_is_capped_at_what_is_left(charge, source, asked, reason):
    assert refund_refusal(charge, source, asked) == reason


def test_a_runner_keeps_the_pets_account_and_others_a_payee_account_per_currency():
    user = uuid.uuid4()
    assert balance_account(user, "runner", "MYR", "MYR") == f"runner:{user}"
    assert balance_account(user, "driver", "IDR", "MYR") == f"payee:{user}:IDR"
    assert balance_account(user, "courier", "MYR", "MYR") == f"payee:{user}:MYR"


@pytest.mark.parametrize(("role", "asked", "earned", "currency"), [
    ("driver", None, [], "IDR"), ("driver", None, ["BDT"], "BDT"),
    ("driver", None, ["BDT", "USD"], "IDR"), ("driver", "USD", ["BDT"], "USD"),
    ("courier", None, [], "USD"), ("runner", None, [], "MYR"), ("gate", None, [], "MYR"),
])
def test_the_balance_currency_is_asked_earned_or_the_roles(role, asked, earned, currency):
    defaults = {"driver": "IDR", "courier": "USD"}
    assert payee_currency(role, asked, earned, defaults, "MYR") == currency


def test_the_cash_out_fee_is_the_platforms_or_the_configured_one_for_a_currency():
    assert cash_out_fee("MYR", "MYR", 50, {"IDR": 2500}) == 50
    assert cash_out_fee("IDR", "MYR", 50, {"IDR": 2500}) == 2500
    assert cash_out_fee("BDT", "MYR", 50, {"IDR": 2500}) == 0


def test_a_cash_out_in_another_currency_is_booked_apart_from_the_platform_currency():
    cash_out_id, account = uuid.uuid4(), payee_account(PAYEE, "IDR")
    entries = [cash_out_entry(cash_out_id, account, 50000, 2500, "IDR"),
               cash_out_settled_entry(cash_out_id, 50000, "IDR")]
    assert balance_of(account, entries) == -52500
    assert balance_of("platform:cash_out_fees:IDR", entries) == 2500
    assert balance_of("bank:payouts:IDR", entries) == 50000
    assert balance_of("payouts:in_transit:IDR", entries) == 0
    runner = cash_out_entry(cash_out_id, f"runner:{PAYEE}", 1000, 50)
    assert {p.account for p in runner.postings} == {
        f"runner:{PAYEE}", "payouts:in_transit", "platform:cash_out_fees"}
