"""All queries of the runner service."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, any_, bindparam, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import selectinload
from sqlalchemy.types import Uuid

from kilat.platform.repository import Repository
from kilat.platform.geo import bounding_box
from kilat.services.runner.domain import AssignmentStatus, SessionStatus
from kilat.services.runner.models import (
    CrateSpec,
    PetShop,
    Runner,
    RunnerAssignment,
    RunnerReview,
    UserProfile,
)

RUNNERS = Runner.__table__
CRATES = CrateSpec.__table__
CRATE_COLUMNS = ("id", "size", "pet_types", "max_weight_kg", "width_cm", "height_cm", "depth_cm",
                 "ventilated", "temperature_controlled")


@dataclass
class Candidate:
    """A runner row and its crates, read in one query for nearby search."""

    runner: dict[str, Any]
    crates: list[dict[str, Any]] = field(default_factory=list)


class RunnerRepository(Repository[Runner]):
    model, entity = Runner, "runner"

    async def by_user(self, user_id: uuid.UUID, *, crates: bool = False) -> Runner | None:
        query = select(Runner).where(Runner.user_id == user_id)
        if crates:
            query = query.options(selectinload(Runner.crate_specs))
        return await self.session.scalar(query)

    async def silent_since(self, cutoff: datetime, limit: int) -> Sequence[Runner]:
        """Online runners without a job whose last location is older than ``cutoff``; locked,
        skipping rows another instance is signing off."""
        query = (select(Runner)
                 .where(Runner.session_status == SessionStatus.ACTIVE.value,
                        Runner.active_booking_id.is_(None),
                        or_(Runner.location_updated_at.is_(None),
                            Runner.location_updated_at < cutoff))
                 .order_by(Runner.location_updated_at).limit(limit))
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return (await self.session.scalars(query)).all()

    async def by_id_or_user(self, runner_id: uuid.UUID) -> Runner | None:
        query = (select(Runner).where((Runner.id == runner_id) | (Runner.user_id == runner_id))
                 .options(selectinload(Runner.crate_specs)))
        return await self.session.scalar(query)

    async def add(self, runner: Runner) -> Runner:
        self.session.add(runner)
        await self.session.flush()
        return runner

    async def crate(self, runner_id: uuid.UUID, crate_id: uuid.UUID) -> CrateSpec | None:
        return await self.session.scalar(
            select(CrateSpec).where(CrateSpec.id == crate_id, CrateSpec.runner_id == runner_id))

    async def crates(self, runner_id: uuid.UUID) -> Sequence[CrateSpec]:
        query = (select(CrateSpec).where(CrateSpec.runner_id == runner_id)
                 .order_by(CrateSpec.created_at, CrateSpec.id))
        return (await self.session.scalars(query)).all()

    async def add_crate(self, crate: CrateSpec) -> CrateSpec:
        self.session.add(crate)
        await self.session.flush()
        return crate

    async def delete_crate(self, crate: CrateSpec) -> None:
        await self.session.delete(crate)
        await self.session.flush()

    async def candidates(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Candidate]:
        """The runners among ``user_ids`` with their crates, in one query."""
        if not user_ids:
            return {}
        query = CANDIDATES_POSTGRES if self.is_postgres else CANDIDATES_SQLITE
        rows = (await self.session.execute(query, {"user_ids": list(user_ids)})).all()
        return _group_candidates(rows)

    async def recently_online(self, since: datetime) -> Sequence[Row]:
        query = select(RUNNERS.c.id, RUNNERS.c.user_id, RUNNERS.c.current_lat,
                       RUNNERS.c.current_lng, RUNNERS.c.location_updated_at,
                       RUNNERS.c.active_booking_id).where(
            RUNNERS.c.session_status == SessionStatus.ACTIVE.value,
            RUNNERS.c.current_lat.is_not(None),
            RUNNERS.c.location_updated_at >= since,
        )
        return (await self.session.execute(query)).all()

    async def store_positions(
        self, positions: Iterable[tuple[uuid.UUID, float, float, datetime]]
    ) -> None:
        """Refresh the last known position of online runners, many rows in one statement."""
        rows = [{"uid": uid, "lat": lat, "lng": lng, "at": at} for uid, lat, lng, at in positions]
        if not rows:
            return
        statement = (
            update(RUNNERS)
            .where(RUNNERS.c.user_id == bindparam("uid"),
                   RUNNERS.c.session_status == SessionStatus.ACTIVE.value)
            .values(current_lat=bindparam("lat"), current_lng=bindparam("lng"),
                    location_updated_at=bindparam("at"))
        )
        await self.session.execute(statement.execution_options(synchronize_session=False), rows)

    # --- read models ---

    async def profile(self, user_id: uuid.UUID) -> UserProfile | None:
        return await self.session.get(UserProfile, user_id)

    async def save_profile(self, profile: UserProfile) -> None:
        self.session.add(profile)
        await self.session.flush()

    async def assignment(self, booking_id: uuid.UUID,
                         runner_user_id: uuid.UUID) -> RunnerAssignment | None:
        return await self.session.get(RunnerAssignment, (booking_id, runner_user_id))

    async def save_assignment(self, assignment: RunnerAssignment) -> None:
        self.session.add(assignment)
        await self.session.flush()

    async def assignment_counts(self, runner_user_id: uuid.UUID) -> dict[str, int]:
        query = (select(RunnerAssignment.status, RunnerAssignment.cancelled_by_runner, func.count())
                 .where(RunnerAssignment.runner_user_id == runner_user_id)
                 .group_by(RunnerAssignment.status, RunnerAssignment.cancelled_by_runner))
        counts: dict[str, int] = {"abandoned": 0}
        for status, by_runner, n in (await self.session.execute(query)).all():
            counts[status] = counts.get(status, 0) + n
            if status == AssignmentStatus.CANCELLED and by_runner:
                counts["abandoned"] += n
        return counts

    async def current_job(self, runner_user_id: uuid.UUID) -> uuid.UUID | None:
        query = (select(RunnerAssignment.booking_id)
                 .where(RunnerAssignment.runner_user_id == runner_user_id,
                        RunnerAssignment.status == AssignmentStatus.ACTIVE.value)
                 .order_by(RunnerAssignment.fact_at.desc()).limit(1))
        return await self.session.scalar(query)

    async def review(self, review_id: uuid.UUID) -> RunnerReview | None:
        return await self.session.get(RunnerReview, review_id)

    async def add_review(self, review: RunnerReview) -> None:
        self.session.add(review)
        await self.session.flush()

    async def stars(self, runner_user_id: uuid.UUID) -> list[int]:
        query = select(RunnerReview.rating).where(RunnerReview.runner_user_id == runner_user_id,
                                                  RunnerReview.hidden.is_(False))
        return list((await self.session.scalars(query)).all())


def _candidates_where(among) -> Select:
    crate_cols = [CRATES.c[name].label(f"crate_{name}") for name in CRATE_COLUMNS]
    return (
        select(*RUNNERS.c, *crate_cols)
        .select_from(RUNNERS.outerjoin(CRATES, CRATES.c.runner_id == RUNNERS.c.id))
        .where(among)
        .order_by(CRATES.c.created_at, CRATES.c.id)
    )


# built once: nearby search runs them on every round, and building costs more than the lookup
CANDIDATES_POSTGRES = _candidates_where(  # one prepared statement whatever the number of ids
    RUNNERS.c.user_id == any_(bindparam("user_ids", type_=ARRAY(Uuid))))
CANDIDATES_SQLITE = _candidates_where(RUNNERS.c.user_id.in_(bindparam("user_ids", expanding=True)))


def _group_candidates(rows: Sequence[Row]) -> dict[uuid.UUID, Candidate]:
    found: dict[uuid.UUID, Candidate] = {}
    runner_keys = RUNNERS.c.keys()
    for row in rows:
        mapping = row._mapping
        candidate = found.get(mapping["user_id"])
        if candidate is None:
            candidate = Candidate({key: mapping[key] for key in runner_keys})
            found[mapping["user_id"]] = candidate
        if mapping["crate_id"] is not None:
            candidate.crates.append({name: mapping[f"crate_{name}"] for name in CRATE_COLUMNS})
    return found


class PetShopRepository(Repository[PetShop]):
    model, entity = PetShop, "pet shop"

    async def add(self, shop: PetShop) -> PetShop:
        self.session.add(shop)
        await self.session.flush()
        return shop

    async def delete(self, shop: PetShop) -> None:
        await self.session.delete(shop)
        await self.session.flush()

    async def listing(self, category: str | None, offset: int,
                      limit: int) -> tuple[list[PetShop], int]:
        where = [PetShop.category == category] if category else []
        total = await self.session.scalar(select(func.count()).select_from(PetShop).where(*where))
        query = (select(PetShop).where(*where)
                 .order_by(PetShop.rating.desc(), PetShop.name, PetShop.id)
                 .offset(offset).limit(limit))
        return list((await self.session.scalars(query)).all()), total or 0

    async def owned_by(self, owner_id: uuid.UUID, offset: int,
                       limit: int) -> tuple[list[PetShop], int]:
        where = PetShop.owner_id == owner_id
        total = await self.session.scalar(select(func.count()).select_from(PetShop).where(where))
        query = (select(PetShop).where(where)
                 .order_by(PetShop.created_at.desc(), PetShop.id).offset(offset).limit(limit))
        return list((await self.session.scalars(query)).all()), total or 0

    async def near(self, latitude: float, longitude: float, radius_km: float,
                   limit: int) -> list[PetShop]:
        """Shops that may lie within the radius; the caller measures and orders them exactly."""
        if self.is_postgres:
            return await self._near_postgis(latitude, longitude, radius_km, limit)
        min_lat, max_lat, min_lng, max_lng = bounding_box(latitude, longitude, radius_km * 1.001)
        query = select(PetShop).where(PetShop.latitude.between(min_lat, max_lat))
        if min_lng >= -180 and max_lng <= 180:
            query = query.where(PetShop.longitude.between(min_lng, max_lng))
        return list((await self.session.scalars(query)).all())

    async def _near_postgis(self, latitude: float, longitude: float, radius_km: float,
                            limit: int) -> list[PetShop]:
        point = func.geography(func.ST_SetSRID(func.ST_MakePoint(longitude, latitude), 4326))
        location = literal_column("pet_shops.location")
        # the spheroid and our 6371 km sphere differ by under 0.5%: widen, then measure exactly
        query = (select(PetShop)
                 .where(func.ST_DWithin(location, point, radius_km * 1000 * 1.005 + 1))
                 .order_by(func.ST_Distance(location, point, False), PetShop.id)
                 .limit(limit + NEAR_MARGIN))
        return list((await self.session.scalars(query)).all())


NEAR_MARGIN = 20
