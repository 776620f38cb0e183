"""The quality policy: which runner may carry which pet (spec §3.3 crate sizes, §3.7 policy)."""

import pytest

from kilat.services.runner.domain import (
    Crate,
    CrateSize,
    PetNeeds,
    PetType,
    RunnerRecord,
    is_eligible,
    required_crate_size,
)


def crate(size="large", pets=("dog",), max_kg=30.0, temp=False) -> Crate:
    return Crate(CrateSize(size), frozenset(pets), max_kg, temp)


def runner(*crates: Crate, rating=0.0, ac=False) -> RunnerRecord:
    return RunnerRecord(rating, ac, list(crates))


@pytest.mark.parametrize(("weight", "size"), [
    (0.5, "small"), (5.0, "small"), (5.01, "medium"), (15.0, "medium"), (15.5, "large"),
    (30.0, "large"), (30.1, "xlarge"), (80.0, "xlarge"),
])
def test_required_crate_size_follows_weight_bands(weight, size):
    assert required_crate_size(weight) is CrateSize(size)


DOG_18 = PetNeeds(PetType.DOG, 18.5)  # needs a large crate holding 22.2 kg


@pytest.mark.parametrize(("record", "needs", "eligible"), [
    (runner(crate("large", ("dog",), 30)), DOG_18, True),
    (runner(crate("xlarge", ("dog",), 50)), DOG_18, True),
    (runner(crate("medium", ("dog",), 30)), DOG_18, False),
    (runner(crate("large", ("cat",), 30)), DOG_18, False),
    (runner(crate("large", ("dog",), 22.0)), DOG_18, False),
    (runner(crate("large", ("dog",), 22.2)), DOG_18, True),
    (runner(crate("small", ("cat",), 5), crate("large", ("dog", "cat"), 25)), DOG_18, True),
    (runner(), DOG_18, False),
    (runner(crate("small", ("reptile",), 3)), PetNeeds(PetType.REPTILE, 1.0), False),
    (runner(crate("small", ("reptile",), 3, temp=True)), PetNeeds(PetType.REPTILE, 1.0), True),
    (runner(crate("small", ("reptile",), 3)),
     PetNeeds(PetType.REPTILE, 1.0, needs_temp_control=False), True),
    (runner(crate("small", ("cat",), 6)), PetNeeds(PetType.CAT, 4, needs_temp_control=True), False),
    (runner(crate(), ac=False), PetNeeds(PetType.DOG, 10, air_conditioned=True), False),
    (runner(crate(), ac=True), PetNeeds(PetType.DOG, 10, air_conditioned=True), True),
    (runner(ac=True), PetNeeds(air_conditioned=True), True),
    (runner(crate(), rating=2.99), DOG_18, False),
    (runner(crate(), rating=3.0), DOG_18, True),
    (runner(crate(), rating=0.0), DOG_18, True),
    (runner(), PetNeeds(), True),
    (runner(crate("medium", ("dog",), 30)), PetNeeds(weight_kg=12), True),
    (runner(crate("small", ("dog",), 30)), PetNeeds(weight_kg=12), False),
    (runner(crate("small", ("bird",), 2)), PetNeeds(PetType.BIRD), True),
])
def test_eligibility_matrix(record, needs, eligible):
    assert is_eligible(record, needs) is eligible


def test_low_rated_runner_is_still_listed_when_no_pet_filter_is_asked():
    assert is_eligible(runner(rating=1.5), PetNeeds()) is True
