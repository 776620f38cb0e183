"""Runner business rules: profiles, sessions, crates, nearby search, booking facts, pet shops."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.runner import RunnerOffline, RunnerOnline
from kilat.platform.auth import Principal
from kilat.platform.errors import BadRequest, Conflict, Forbidden, NotFound, not_found
from kilat.platform.events import record_event
from kilat.platform.geo import haversine_km
from kilat.platform.models import utcnow
from kilat.services.runner import demo
from kilat.services.runner.domain import (
    MOTOR_VEHICLES,
    AssignmentStatus,
    Crate,
    CrateSize,
    PetNeeds,
    RunnerRecord,
    SessionStatus,
    VehicleType,
    completion_rate,
    is_eligible,
    mean_rating,
    next_assignment,
)
from kilat.services.runner.live import (
    LiveRunners,
    check_live_position,
    check_position,
)
from kilat.services.runner.models import (
    CrateSpec,
    PetShop,
    Runner,
    RunnerAssignment,
    RunnerReview,
    UserProfile,
)
from kilat.services.runner.repository import Candidate, PetShopRepository, RunnerRepository
from kilat.services.runner.schemas import (
    CrateCreate,
    CrateUpdate,
    NearbyPetShop,
    NearbyRunner,
    PetShopCreate,
    PetShopOut,
    PetShopUpdate,
    Position,
    RunnerCreate,
    RunnerUpdate,
)

log = structlog.get_logger(__name__)

RUNNER_NOT_FOUND = "runner not found"
# runner.offline reasons
OFFLINE_REQUESTED = "requested"
OFFLINE_SILENT = "no_location_updates"
OFFLINE_SWEEP_BATCH = 500
SHOP_NOT_FOUND = "pet shop not found"
NOT_SHOP_OWNER = "you do not own this pet shop"


# --- runner profile -------------------------------------------------------------------------------


async def register_runner(session: AsyncSession, user: Principal, body: RunnerCreate) -> Runner:
    """Create the caller's runner profile; name and phone default from the identity profile."""
    repo = RunnerRepository(session)
    if await repo.by_user(user.user_id) is not None:
        raise Conflict("runner profile already exists",
                       f"user '{user.user_id}' is already registered as a runner")
    _require_plate(body.vehicle_type, body.vehicle_plate)
    profile = await repo.profile(user.user_id)
    runner = Runner(
        user_id=user.user_id,
        full_name=body.full_name or _default_name(profile, user),
        phone=body.phone or (profile.phone if profile else None),
        vehicle_type=body.vehicle_type.value,
        vehicle_plate=body.vehicle_plate,
        vehicle_model=body.vehicle_model,
        vehicle_year=body.vehicle_year,
        air_conditioned=body.air_conditioned,
        session_status=SessionStatus.INACTIVE.value,
        rating=0.0, total_trips=0, completion_rate=1.0, crate_specs=[],
    )
    await repo.add(runner)
    await refresh_record(session, runner)
    return runner


def _default_name(profile: UserProfile | None, user: Principal) -> str:
    if profile is not None and profile.full_name:
        return profile.full_name
    return user.email.split("@", 1)[0] or "runner"


def _require_plate(vehicle_type: VehicleType | str, plate: str | None) -> None:
    if VehicleType(vehicle_type) in MOTOR_VEHICLES and not plate:
        raise BadRequest(f"vehicle_plate is required for a {VehicleType(vehicle_type).value}")


async def my_runner(session: AsyncSession, user_id: uuid.UUID) -> Runner:
    runner = await RunnerRepository(session).by_user(user_id, crates=True)
    if runner is None:
        raise NotFound(RUNNER_NOT_FOUND, f"no runner profile for user '{user_id}'")
    return runner


async def runner_by_id(session: AsyncSession, runner_id: uuid.UUID) -> Runner:
    runner = await RunnerRepository(session).by_id_or_user(runner_id)
    if runner is None:
        raise not_found("Runner", runner_id)
    return runner


async def update_runner(session: AsyncSession, live: LiveRunners, user_id: uuid.UUID,
                        body: RunnerUpdate) -> Runner:
    runner = await my_runner(session, user_id)
    _check_version(runner.version, body.version)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for name in ("full_name", "vehicle_type", "air_conditioned"):
        if name in changes and changes[name] is None:
            raise BadRequest(f"{name} cannot be empty")
    vehicle_type = changes.get("vehicle_type", runner.vehicle_type)
    _require_plate(vehicle_type, changes.get("vehicle_plate", runner.vehicle_plate))
    for name, value in changes.items():
        setattr(runner, name, value.value if isinstance(value, VehicleType) else value)
    await session.flush()
    live.forget(user_id, session)
    return runner


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise Conflict("resource was modified concurrently",
                       f"version {expected} is stale; the current version is {current}")


# --- sessions -------------------------------------------------------------------------------------


async def go_online(session: AsyncSession, live: LiveRunners, user_id: uuid.UUID,
                    position: Position) -> Runner:
    check_live_position(position.latitude, position.longitude)
    runner = await my_runner(session, user_id)
    was_online = runner.session_status == SessionStatus.ACTIVE
    runner.session_status = SessionStatus.ACTIVE.value
    runner.current_lat, runner.current_lng = position.latitude, position.longitude
    runner.location_updated_at = utcnow()
    await session.flush()
    if not was_online:
        await record_event(session, RunnerOnline(
            runner_id=user_id, runner_profile_id=runner.id, latitude=position.latitude,
            longitude=position.longitude, occurred_at=runner.location_updated_at))
    await live.online(session, user_id, runner.id, position.latitude, position.longitude,
                      runner.active_booking_id)
    return runner


async def go_offline(session: AsyncSession, live: LiveRunners, user_id: uuid.UUID) -> Runner:
    runner = await my_runner(session, user_id)
    if runner.active_booking_id is not None:
        raise Conflict("runner has an active booking",
                       f"finish booking '{runner.active_booking_id}' before going offline")
    await _sign_off(session, live, runner, OFFLINE_REQUESTED)
    return runner


async def _sign_off(session: AsyncSession, live: LiveRunners, runner: Runner, reason: str) -> None:
    was_online = runner.session_status == SessionStatus.ACTIVE
    runner.session_status = SessionStatus.INACTIVE.value
    runner.current_lat = runner.current_lng = runner.location_updated_at = None
    await session.flush()
    if was_online:
        await record_event(session, RunnerOffline(
            runner_id=runner.user_id, runner_profile_id=runner.id, reason=reason,
            occurred_at=utcnow()))
    await live.offline(session, runner.user_id)


async def sign_off_silent(live: LiveRunners) -> int:
    """Sign off online runners without a job that sent no location for
    ``offline_after_seconds`` (an app killed without going offline); returns how many."""
    if not live.settings.offline_after_seconds:
        return 0
    await live.flush_positions()  # this process's latest pings count as signs of life
    cutoff = datetime.fromtimestamp(live.clock(), UTC) - timedelta(
        seconds=live.settings.offline_after_seconds)
    async with live.database.session() as session:
        runners = await RunnerRepository(session).silent_since(cutoff, OFFLINE_SWEEP_BATCH)
        for runner in runners:
            await _sign_off(session, live, runner, OFFLINE_SILENT)
    if runners:
        log.info("silent runners signed off", count=len(runners))
    return len(runners)


async def start_offline_sweeper(runtime) -> None:
    live: LiveRunners = runtime.context.live
    if live.settings.offline_after_seconds:
        runtime.spawn(live.every(live.settings.offline_sweep_seconds,
                                 lambda: sign_off_silent(live), "offline-sweep"),
                      "runner-offline-sweep")


# --- crates ---------------------------------------------------------------------------------------


async def add_crate(session: AsyncSession, live: LiveRunners, user_id: uuid.UUID,
                    body: CrateCreate) -> CrateSpec:
    runner = await my_runner(session, user_id)
    values = body.model_dump()
    values["size"] = body.size.value
    values["pet_types"] = sorted({pet.value for pet in body.pet_types})
    crate = await RunnerRepository(session).add_crate(CrateSpec(runner_id=runner.id, **values))
    await _touch(session, runner)
    live.forget(user_id, session)
    return crate


async def my_crates(session: AsyncSession, user_id: uuid.UUID) -> list[CrateSpec]:
    runner = await my_runner(session, user_id)
    return list(await RunnerRepository(session).crates(runner.id))


async def my_crate(session: AsyncSession, user_id: uuid.UUID, crate_id: uuid.UUID) -> CrateSpec:
    runner = await my_runner(session, user_id)
    crate = await RunnerRepository(session).crate(runner.id, crate_id)
    if crate is None:
        raise not_found("Crate", crate_id)
    return crate


async def update_crate(session: AsyncSession, live: LiveRunners, user_id: uuid.UUID,
                       crate_id: uuid.UUID, body: CrateUpdate) -> CrateSpec:
    crate = await my_crate(session, user_id, crate_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("size", "pet_types", "max_weight_kg", "ventilated", "temperature_controlled"):
        if name in changes and changes[name] is None:
            raise BadRequest(f"{name} cannot be empty")
    if "size" in changes:
        changes["size"] = CrateSize(changes["size"]).value
    if "pet_types" in changes:
        changes["pet_types"] = sorted({str(pet) for pet in body.pet_types})
    for name, value in changes.items():
        setattr(crate, name, value)
    await session.flush()
    live.forget(user_id, session)
    return crate


async def delete_crate(session: AsyncSession, live: LiveRunners, user_id: uuid.UUID,
                       crate_id: uuid.UUID) -> None:
    crate = await my_crate(session, user_id, crate_id)
    await RunnerRepository(session).delete_crate(crate)
    live.forget(user_id, session)


async def _touch(session: AsyncSession, runner: Runner) -> None:
    """Bump the profile's version so a crate change conflicts with a stale profile edit."""
    runner.updated_at = utcnow()
    await session.flush()


# --- nearby search --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NearbyQuery:
    latitude: float
    longitude: float
    radius_km: float
    limit: int
    needs: PetNeeds


FIRST_ROUND_SLACK = 5
FILTERED_FIRST_ROUND_FACTOR = 2
NEXT_ROUND_FACTOR = 4


async def nearby_runners(live: LiveRunners, query: NearbyQuery) -> list[NearbyRunner]:
    """Available runners nearest first: the live index orders them; their rows and crates (cached
    briefly, else one query per round) confirm each is online and free and has a fitting crate."""
    check_position(query.latitude, query.longitude)
    asked = _first_round(query)
    ceiling = max(live.settings.nearby_max_candidates, asked)
    seen: set[str] = set()
    found: list[NearbyRunner] = []
    while True:
        hits = await live.nearby(query.latitude, query.longitude, query.radius_km, asked)
        fresh = [hit for hit in hits if hit.member not in seen]
        seen.update(hit.member for hit in fresh)
        candidates = await live.candidates([uuid.UUID(hit.member) for hit in fresh])
        for hit in fresh:
            candidate = candidates.get(uuid.UUID(hit.member))
            if _searchable(candidate) and is_eligible(_record(candidate), query.needs):
                found.append(_nearby_runner(candidate, hit.distance_km))
        if len(found) >= query.limit or len(hits) < asked or asked >= ceiling:
            return found[:query.limit]
        asked = min(asked * NEXT_ROUND_FACTOR, ceiling)


def _searchable(candidate: Candidate | None) -> bool:
    """The index says online and free; the row must not say otherwise."""
    return (candidate is not None
            and candidate.runner["session_status"] == SessionStatus.ACTIVE
            and candidate.runner["active_booking_id"] is None)


def _first_round(query: NearbyQuery) -> int:
    if query.needs.filters:
        return query.limit * FILTERED_FIRST_ROUND_FACTOR + FIRST_ROUND_SLACK
    return query.limit + FIRST_ROUND_SLACK


def _record(candidate: Candidate) -> RunnerRecord:
    runner = candidate.runner
    crates = [Crate(CrateSize(c["size"]), frozenset(c["pet_types"] or ()), c["max_weight_kg"],
                    c["temperature_controlled"]) for c in candidate.crates]
    return RunnerRecord(float(runner["rating"]), runner["air_conditioned"], crates)


def _nearby_runner(candidate: Candidate, distance_km: float) -> NearbyRunner:
    return NearbyRunner.model_validate(
        candidate.runner | {"crate_specs": candidate.crates, "distance_km": round(distance_km, 3)})


# --- booking, review and identity facts (event handlers) ------------------------------------------


async def record_assignment(session: AsyncSession, live: LiveRunners, booking_id: uuid.UUID,
                            runner_user_id: uuid.UUID, fact: AssignmentStatus, at: datetime,
                            *, by_runner: bool = False) -> None:
    """Apply one booking fact for a runner; repeated or late facts change nothing."""
    repo = RunnerRepository(session)
    assignment = await repo.assignment(booking_id, runner_user_id)
    current = AssignmentStatus(assignment.status) if assignment else None
    current_at = assignment.fact_at.timestamp() if assignment else 0.0
    status = next_assignment(current, current_at, fact, at.timestamp())
    if status is None:
        return
    if assignment is None:
        assignment = RunnerAssignment(booking_id=booking_id, runner_user_id=runner_user_id)
    assignment.status, assignment.fact_at = status.value, at
    assignment.cancelled_by_runner = status is AssignmentStatus.CANCELLED and by_runner
    await repo.save_assignment(assignment)
    runner = await repo.by_user(runner_user_id)
    if runner is not None:
        before = runner.active_booking_id
        await refresh_record(session, runner)
        live.forget(runner_user_id, session)
        if runner.active_booking_id != before:
            await live.job_changed(session, runner_user_id, runner.id, runner.active_booking_id)


async def refresh_record(session: AsyncSession, runner: Runner) -> None:
    """Recompute rating, trips, completion rate and the current job from the read models."""
    repo = RunnerRepository(session)
    counts = await repo.assignment_counts(runner.user_id)
    accepted = sum(counts.get(s.value, 0) for s in (AssignmentStatus.ACTIVE,
                                                     AssignmentStatus.COMPLETED,
                                                     AssignmentStatus.CANCELLED))
    values = {
        "total_trips": counts.get(AssignmentStatus.COMPLETED.value, 0),
        "completion_rate": completion_rate(accepted, counts["abandoned"]),
        "rating": mean_rating(await repo.stars(runner.user_id)),
        "active_booking_id": await repo.current_job(runner.user_id),
    }
    changed = {k: v for k, v in values.items() if getattr(runner, k) != v}
    for name, value in changed.items():
        setattr(runner, name, value)
    if changed:
        await session.flush()


async def record_review(session: AsyncSession, live: LiveRunners, review_id: uuid.UUID,
                        booking_id: uuid.UUID | None, runner_user_id: uuid.UUID, stars: int,
                        *, hidden: bool = False) -> None:
    """Count a review once; a hidden one stops counting, whichever fact arrives first."""
    repo = RunnerRepository(session)
    review = await repo.review(review_id)
    if review is not None and (review.hidden or not hidden):
        return
    if review is None:
        await repo.add_review(RunnerReview(review_id=review_id, booking_id=booking_id,
                                           runner_user_id=runner_user_id, rating=stars,
                                           hidden=hidden))
    else:
        review.hidden = True
        await session.flush()
    runner = await repo.by_user(runner_user_id)
    if runner is not None:
        await refresh_record(session, runner)
        live.forget(runner_user_id, session)


async def record_profile(session: AsyncSession, user_id: uuid.UUID, values: dict) -> None:
    repo = RunnerRepository(session)
    profile = await repo.profile(user_id) or UserProfile(user_id=user_id)
    for name in ("email", "full_name", "phone", "role"):
        if name in values:
            setattr(profile, name, values[name])
    await repo.save_profile(profile)


# --- pet shops ------------------------------------------------------------------------------------


async def create_shop(session: AsyncSession, owner_id: uuid.UUID, body: PetShopCreate) -> PetShop:
    check_position(body.latitude, body.longitude)
    values = body.model_dump()
    values["category"] = body.category.value
    return await PetShopRepository(session).add(PetShop(owner_id=owner_id, rating=0.0, **values))


async def get_shop(session: AsyncSession, shop_id: uuid.UUID) -> PetShop:
    shop = await PetShopRepository(session).get(shop_id)
    if shop is None:
        raise NotFound(SHOP_NOT_FOUND, f"pet shop with id '{shop_id}' was not found")
    return shop


async def _owned_shop(session: AsyncSession, user: Principal, shop_id: uuid.UUID) -> PetShop:
    shop = await get_shop(session, shop_id)
    if not user.is_admin and shop.owner_id != user.user_id:
        raise Forbidden(NOT_SHOP_OWNER)
    return shop


async def update_shop(session: AsyncSession, user: Principal, shop_id: uuid.UUID,
                      body: PetShopUpdate) -> PetShop:
    shop = await _owned_shop(session, user, shop_id)
    _check_version(shop.version, body.version)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for name in ("name", "address", "latitude", "longitude", "category", "services"):
        if name in changes and changes[name] is None:
            raise BadRequest(f"{name} cannot be empty")
    check_position(changes.get("latitude", shop.latitude), changes.get("longitude", shop.longitude))
    for name, value in changes.items():
        setattr(shop, name, getattr(value, "value", value))
    await session.flush()
    return shop


async def delete_shop(session: AsyncSession, user: Principal, shop_id: uuid.UUID) -> None:
    shop = await _owned_shop(session, user, shop_id)
    await PetShopRepository(session).delete(shop)


async def list_shops(session: AsyncSession, category: str | None, offset: int,
                     limit: int) -> tuple[list[PetShop], int]:
    return await PetShopRepository(session).listing(category, offset, limit)


async def my_shops(session: AsyncSession, owner_id: uuid.UUID, offset: int,
                   limit: int) -> tuple[list[PetShop], int]:
    return await PetShopRepository(session).owned_by(owner_id, offset, limit)


async def nearby_shops(session: AsyncSession, latitude: float, longitude: float, radius_km: float,
                       limit: int) -> list[NearbyPetShop]:
    """Shops within the radius, nearest first (great-circle distance, ties by id)."""
    check_position(latitude, longitude)
    shops = await PetShopRepository(session).near(latitude, longitude, radius_km, limit)
    measured = [(haversine_km(latitude, longitude, s.latitude, s.longitude), s) for s in shops]
    inside = sorted(((d, s) for d, s in measured if d <= radius_km),
                    key=lambda pair: (pair[0], str(pair[1].id)))
    return [NearbyPetShop.model_validate(PetShopOut.model_validate(shop).model_dump()
                                         | {"distance_km": round(distance, 3)})
            for distance, shop in inside[:limit]]


async def seed_demo_shops(session: AsyncSession) -> int:
    """Insert the seven Klang Valley demo shops that are missing; returns how many were added."""
    repo = PetShopRepository(session)
    added = 0
    for shop in demo.DEMO_SHOPS:
        shop_id = demo.shop_id(shop["name"])
        if await repo.get(shop_id) is None:
            await repo.add(PetShop(id=shop_id, owner_id=None, **shop))
            added += 1
    return added
