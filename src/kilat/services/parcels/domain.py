"""Parcels rules without I/O: pricing, the shipment state machine, refunds, tracking numbers,
webhook signatures and the ad targeting language (all documented in docs/parcels.md)."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import string
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kilat.platform.geo import haversine_km

# --- pricing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricingRules:
    base_fee_cents: int = 500
    per_km_cents: int = 120
    per_kg_cents: int = 80
    included_kg: float = 2.0
    road_factor: float = 1.3
    volumetric_divisor: int = 5000
    express_multiplier: float = 1.5
    max_distance_km: float = 150.0
    max_chargeable_kg: float = 100.0
    currency: str = "MYR"


@dataclass(frozen=True)
class Item:
    weight_kg: float
    length_cm: float
    width_cm: float
    height_cm: float
    quantity: int


@dataclass(frozen=True)
class Quote:
    distance_km: float
    actual_kg: float
    volumetric_kg: float
    chargeable_kg: float
    price: int
    currency: str


class QuoteRefused(ValueError):
    """The order is outside what the service carries (too far, too heavy)."""


def round_half_kg(kg: float) -> float:
    return math.ceil(round(kg * 2, 6)) / 2


def quote(pickup: tuple[float, float], dropoff: tuple[float, float], items: Iterable[Item],
          service_level: str, rules: PricingRules) -> Quote:
    """price = ceil((base + per_km * road_km + per_kg * max(0, chargeable - included))
    * level multiplier); road_km = haversine * road_factor (2 decimals);
    chargeable = ceil to 0.5 kg of max(actual, volumetric); volumetric = L*W*H/divisor each."""
    items = list(items)
    distance = round(haversine_km(*pickup, *dropoff) * rules.road_factor, 2)
    actual = sum(i.weight_kg * i.quantity for i in items)
    volumetric = sum(i.length_cm * i.width_cm * i.height_cm / rules.volumetric_divisor * i.quantity
                     for i in items)
    chargeable = round_half_kg(max(actual, volumetric))
    if distance > rules.max_distance_km:
        raise QuoteRefused(f"pickup and dropoff are {distance} km apart; the limit is "
                           f"{rules.max_distance_km} km")
    if chargeable > rules.max_chargeable_kg:
        raise QuoteRefused(f"chargeable weight {chargeable} kg is over the limit of "
                           f"{rules.max_chargeable_kg} kg")
    raw = (rules.base_fee_cents + rules.per_km_cents * distance
           + rules.per_kg_cents * max(0.0, chargeable - rules.included_kg))
    multiplier = rules.express_multiplier if service_level == ServiceLevel.EXPRESS else 1.0
    price = math.ceil(round(raw * multiplier, 6))
    return Quote(distance, round(actual, 3), round(volumetric, 3), chargeable, price,
                 rules.currency)


class ServiceLevel(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"


# --- orders and payment --------------------------------------------------------------------------


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_PENDING = "payment_pending"
    PAID = "paid"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PENDING = "pending"
    FAILED = "failed"
    CAPTURED = "captured"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"


CHARGE_NAMESPACE = uuid.UUID("6f0d8a53-3f0b-4d55-9a43-7c2a1f6f9e10")


def charge_id(order_id: uuid.UUID, attempt: int) -> uuid.UUID:
    """The same order and attempt always name the same charge (the payment side de-duplicates)."""
    return uuid.uuid5(CHARGE_NAMESPACE, f"parcels:{order_id}:charge:{attempt}")


def refund_id(order_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(CHARGE_NAMESPACE, f"parcels:{order_id}:refund")


def may_pay(status: str) -> bool:
    return status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAYMENT_PENDING)


@dataclass(frozen=True)
class CancelDecision:
    refund: int  # minor units given back; 0 = nothing to refund
    reason: str


class CancelRefused(ValueError):
    pass


def cancellation(order_status: str, shipment_status: str, price: int,
                 fee_percent: int) -> CancelDecision:
    """Refund rules: unpaid - cancel, nothing to refund; paid and not yet assigned - full refund;
    assigned but not picked up - refund less ``fee_percent`` (the courier's trip); picked up or
    later, or while a payment is pending - refused."""
    if order_status == OrderStatus.CANCELLED:
        raise CancelRefused("order is already cancelled")
    if order_status == OrderStatus.PAYMENT_PENDING:
        raise CancelRefused("a payment is in progress; cancel once it has been answered")
    if order_status == OrderStatus.AWAITING_PAYMENT:
        return CancelDecision(0, "cancelled before payment")
    if shipment_status == ShipmentStatus.PENDING:
        return CancelDecision(price, "full refund: not yet assigned")
    if shipment_status == ShipmentStatus.ASSIGNED:
        return CancelDecision(price - price * fee_percent // 100,
                              f"refund less {fee_percent}%: a courier was assigned")
    raise CancelRefused(f"shipment is {shipment_status}; it can no longer be cancelled")


# --- shipments -----------------------------------------------------------------------------------


class ShipmentStatus(StrEnum):
    PENDING = "pending"
    ASSIGNED = "assigned"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    FAILED = "failed"
    RETURNED = "returned"
    CANCELLED = "cancelled"


S = ShipmentStatus
TRANSITIONS: Mapping[S, frozenset[S]] = {
    S.PENDING: frozenset({S.ASSIGNED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.PICKED_UP, S.FAILED, S.CANCELLED}),
    S.PICKED_UP: frozenset({S.IN_TRANSIT, S.FAILED}),
    S.IN_TRANSIT: frozenset({S.DELIVERED, S.FAILED}),
    S.FAILED: frozenset({S.RETURNED}),
    S.DELIVERED: frozenset(),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
}
TERMINAL = frozenset({S.DELIVERED, S.RETURNED, S.CANCELLED})
OPEN_FOR_COURIER = frozenset({S.ASSIGNED, S.PICKED_UP, S.IN_TRANSIT})
ENDS_ASSIGNMENT = frozenset({S.DELIVERED, S.FAILED, S.CANCELLED})


class TransitionRefused(ValueError):
    pass


def check_transition(current: str, target: str) -> None:
    """Refuse any move the state machine does not list."""
    if target not in TRANSITIONS.get(S(current), frozenset()):
        raise TransitionRefused(f"a shipment cannot go from {current} to {target}")


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed."""
    return {key: [before.get(key), value] for key, value in after.items()
            if before.get(key) != value}


def eta_minutes(here: tuple[float, float], there: tuple[float, float], road_factor: float,
                speed_kmh: float) -> float:
    """Minutes to the next stop: the straight line times the road factor at the average speed."""
    return round(haversine_km(*here, *there) * road_factor / speed_kmh * 60, 1)


def next_stop(status: str, pickup: tuple[float, float],
              dropoff: tuple[float, float]) -> tuple[str, tuple[float, float]]:
    """Where the courier heads now: the pickup until the parcel is picked up, then the dropoff."""
    return ("pickup", pickup) if status == ShipmentStatus.ASSIGNED else ("dropoff", dropoff)


# --- tracking numbers ----------------------------------------------------------------------------

ALPHABET = string.digits + string.ascii_uppercase


def tracking_number(day: datetime) -> str:
    """``DM-YYYYMMDD-XXXXXX``: six random upper-case base-36 characters."""
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"DM-{day:%Y%m%d}-{suffix}"


def is_tracking_number(value: str) -> bool:
    parts = value.split("-")
    return (len(parts) == 3 and parts[0] == "DM" and len(parts[1]) == 8 and parts[1].isdigit()
            and len(parts[2]) == 6 and all(c in ALPHABET for c in parts[2]))


# --- webhooks ------------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``X-Kilat-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in fields or "v1" not in fields or not fields["t"].isdigit():
        return False
    return hmac.compare_digest(signature(secret, int(fields["t"]), body), header)


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Delay before retry number ``attempt`` (1 = first retry): base * 2^(attempt-1), capped."""
    return min(cap, base * 2 ** max(0, attempt - 1))


# --- ads targeting -------------------------------------------------------------------------------

AD_FIELDS = frozenset({"city", "segment", "channel", "hour", "weekday"})
AD_OPS = frozenset({"eq", "neq", "in", "not_in", "between"})
CHANNELS = ("web", "mobile", "wechat", "system")
MAX_RULE_DEPTH = 5


class RuleError(ValueError):
    pass


def check_rule(rule: Any, depth: int = 0) -> None:
    """Refuse a rule outside the language (docs/parcels.md "Ad targeting")."""
    if depth > MAX_RULE_DEPTH:
        raise RuleError("rules nest at most 5 deep")
    if not isinstance(rule, dict):
        raise RuleError("a rule is an object")
    if not rule:
        return
    if len(rule) == 1 and ("all" in rule or "any" in rule):
        children = next(iter(rule.values()))
        if not isinstance(children, list) or not 1 <= len(children) <= 20:
            raise RuleError("all/any take a list of 1 to 20 rules")
        for child in children:
            check_rule(child, depth + 1)
        return
    if len(rule) == 1 and "not" in rule:
        check_rule(rule["not"], depth + 1)
        return
    _check_leaf(rule)


def _check_leaf(rule: dict) -> None:
    if set(rule) != {"field", "op", "value"}:
        raise RuleError("a condition has exactly field, op and value")
    if rule["field"] not in AD_FIELDS:
        raise RuleError(f"field must be one of {sorted(AD_FIELDS)}")
    if rule["op"] not in AD_OPS:
        raise RuleError(f"op must be one of {sorted(AD_OPS)}")
    value = rule["value"]
    if rule["op"] in ("in", "not_in") and not (isinstance(value, list) and value):
        raise RuleError("in/not_in take a non-empty list")
    if rule["op"] == "between" and not (
            isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise RuleError("between takes [low, high] integers")
    if rule["op"] in ("eq", "neq") and not isinstance(value, str | int) or isinstance(value, bool):
        raise RuleError("eq/neq take a string or an integer")


def rule_matches(rule: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Evaluate a checked rule against the viewer's facts (an empty rule matches everyone)."""
    if not rule:
        return True
    if "all" in rule:
        return all(rule_matches(child, facts) for child in rule["all"])
    if "any" in rule:
        return any(rule_matches(child, facts) for child in rule["any"])
    if "not" in rule:
        return not rule_matches(rule["not"], facts)
    actual, op, value = facts.get(rule["field"]), rule["op"], rule["value"]
    if op == "eq":
        return _same(actual, value)
    if op == "neq":
        return not _same(actual, value)
    if op == "in":
        return any(_same(actual, v) for v in value)
    if op == "not_in":
        return not any(_same(actual, v) for v in value)
    low, high = value
    return isinstance(actual, int) and (low <= actual <= high if low <= high
                                        else actual >= low or actual <= high)


def _same(actual: Any, value: Any) -> bool:
    if isinstance(actual, str) and isinstance(value, str):
        return actual.casefold() == value.casefold()
    return actual == value


# --- reports -------------------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return round(ordered[middle], 2)
    return round((ordered[middle - 1] + ordered[middle]) / 2, 2)


def percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 2)
