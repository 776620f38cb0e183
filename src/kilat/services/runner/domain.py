"""Runner rules without I/O: vehicles, crates and pet eligibility, ratings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from kilat.contracts import VehicleType

MOTOR_VEHICLES = frozenset(vehicle for vehicle in VehicleType if vehicle.motorised)


class SessionStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class PetType(StrEnum):
    CAT = "cat"
    DOG = "dog"
    BIRD = "bird"
    RABBIT = "rabbit"
    REPTILE = "reptile"
    OTHER = "other"


class CrateSize(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    XLARGE = "xlarge"

    @property
    def rank(self) -> int:
        return list(CrateSize).index(self)


class ShopCategory(StrEnum):
    GROOMING = "grooming"
    VET = "vet"
    BOARDING = "boarding"
    PET_STORE = "pet_store"


# --- eligibility (quality policy, spec §3.3 and §3.7) ---------------------------------------------

CRATE_SIZE_LIMITS_KG = ((5.0, CrateSize.SMALL), (15.0, CrateSize.MEDIUM), (30.0, CrateSize.LARGE))
WEIGHT_CAPACITY_FACTOR = 1.2
MIN_RATING = 3.0


def required_crate_size(weight_kg: float) -> CrateSize:
    for limit, size in CRATE_SIZE_LIMITS_KG:
        if weight_kg <= limit:
            return size
    return CrateSize.XLARGE


def minimum_weight_capacity(weight_kg: float) -> float:
    return weight_kg * WEIGHT_CAPACITY_FACTOR


@dataclass(frozen=True, slots=True)
class PetNeeds:
    """What the pet to carry demands; ``None`` means the search does not filter on it."""

    pet_type: PetType | None = None
    weight_kg: float | None = None
    needs_temp_control: bool | None = None
    air_conditioned: bool | None = None

    @property
    def filters(self) -> bool:
        return any(v is not None for v in (self.pet_type, self.weight_kg, self.needs_temp_control,
                                           self.air_conditioned))

    @property
    def temp_control(self) -> bool:
        if self.needs_temp_control is not None:
            return self.needs_temp_control
        return self.pet_type is PetType.REPTILE

    @property
    def needs_crate(self) -> bool:
        return self.pet_type is not None or self.weight_kg is not None or self.temp_control


@dataclass(frozen=True, slots=True)
class Crate:
    size: CrateSize
    pet_types: frozenset[str]
    max_weight_kg: float
    temperature_controlled: bool


@dataclass(frozen=True, slots=True)
class RunnerRecord:
    rating: float
    air_conditioned: bool
    crates: Sequence[Crate]


def crate_fits(crate: Crate, needs: PetNeeds) -> bool:
    if needs.pet_type is not None and needs.pet_type.value not in crate.pet_types:
        return False
    if needs.weight_kg is not None:
        if crate.size.rank < required_crate_size(needs.weight_kg).rank:
            return False
        if crate.max_weight_kg + 1e-9 < minimum_weight_capacity(needs.weight_kg):
            return False
    return not needs.temp_control or crate.temperature_controlled


def is_eligible(runner: RunnerRecord, needs: PetNeeds) -> bool:
    """Eligible iff a crate fits the pet, A/C when asked, and a rated runner holds at least 3.0.

    Ratings are 1-5 stars, so 0 means "not rated yet", which does not exclude a runner.
    """
    if not needs.filters:
        return True
    if needs.air_conditioned and not runner.air_conditioned:
        return False
    if 0 < runner.rating < MIN_RATING:
        return False
    if not needs.needs_crate:
        return True
    return any(crate_fits(crate, needs) for crate in runner.crates)


# --- ratings and trips ----------------------------------------------------------------------------

TWO_PLACES = Decimal("0.01")


def mean_rating(stars: Iterable[int]) -> float:
    values = list(stars)
    if not values:
        return 0.0
    mean = Decimal(sum(values)) / Decimal(len(values))
    return float(mean.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def completion_rate(accepted: int, abandoned: int) -> float:
    """Share of accepted jobs the runner did not cancel; 1.0 before the first job."""
    if accepted <= 0:
        return 1.0
    rate = Decimal(max(accepted - abandoned, 0)) / Decimal(accepted)
    return float(rate.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DECLINED = "declined"


TERMINAL_ASSIGNMENTS = frozenset({AssignmentStatus.COMPLETED, AssignmentStatus.CANCELLED})


def next_assignment(current: AssignmentStatus | None, current_at: float,
                    fact: AssignmentStatus, fact_at: float) -> AssignmentStatus | None:
    """The assignment's status after a booking fact, or None when the fact changes nothing.

    Facts may arrive twice or out of order: a finished job stays finished, and between
    ``active`` and ``declined`` (a runner may accept again after declining) the later fact wins.
    """
    if current is None:
        return fact
    if current == fact or current in TERMINAL_ASSIGNMENTS:
        return None
    if fact in TERMINAL_ASSIGNMENTS:
        return fact
    return fact if fact_at >= current_at else None
