"""Routes of the runner service: runner profiles, sessions, pings, crates, nearby, pet shops."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.errors import BadRequest
from kilat.platform.geo import FixVerdict
from kilat.platform.http import Session
from kilat.platform.schemas import Envelope, Message, Page, Paging, error_responses, ok, page_of
from kilat.services.runner import service
from kilat.services.runner.domain import PetNeeds, PetType, ShopCategory
from kilat.services.runner.context import Ctx, RunnerContext
from kilat.services.runner.schemas import (
    CrateCreate,
    CrateSpecOut,
    CrateUpdate,
    FixResult,
    LocationAck,
    LocationBatch,
    LocationBatchAck,
    LocationUpdate,
    NearbyPetShop,
    NearbyRunner,
    PetShopCreate,
    PetShopOut,
    PetShopUpdate,
    Position,
    RunnerCreate,
    RunnerOut,
    RunnerPublic,
    RunnerUpdate,
)


RunnerUser = RequireRole("runner")
ShopUser = RequireRole("shop", "admin")

LatitudeQ = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)]
LongitudeQ = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)]
LimitQ = Annotated[int, Query(ge=1, le=100, description="at most this many, 1..100")]

runners = APIRouter(prefix="/api/v1/runners", tags=["runners"])
petshops = APIRouter(prefix="/api/v1/petshops", tags=["pet shops"])


# --- the ping hot path, first so the router matches it first ------------------------------------


def _ack(verdict: FixVerdict) -> LocationAck:
    if verdict.keeps_alive:
        reason = None if verdict.moves else verdict.value
        return LocationAck(message="location updated", accepted=True, reason=reason)
    return LocationAck(message="location ignored", accepted=False, reason=verdict.value)


# one body per verdict, rendered once: a ping then skips response-model validation
ACKS = {verdict: Envelope[LocationAck](data=_ack(verdict)).model_dump_json().encode()
        for verdict in FixVerdict}


@runners.post("/me/location", response_model=Envelope[LocationAck],
              responses=error_responses(400, 401, 403, 404))
async def update_location(body: LocationUpdate, user: RunnerUser, request: Request) -> Response:
    """A GPS ping. Poor or impossible-to-reach fixes are acknowledged with ``accepted: false``."""
    # the request itself rather than the Ctx dependency: one dependency less to solve per ping
    context: RunnerContext = request.app.state.runtime.context
    verdict = await context.live.ingest(user.user_id, body)
    return Response(ACKS[verdict], media_type="application/json")


def _batch_ack(verdicts: list[FixVerdict]) -> LocationBatchAck:
    results = [FixResult(accepted=v.keeps_alive, reason=None if v.moves else v.value)
               for v in verdicts]
    kept = sum(result.accepted for result in results)
    return LocationBatchAck(accepted=kept, ignored=len(results) - kept, results=results)


@runners.post("/me/locations", response_model=Envelope[LocationBatchAck],
              responses=error_responses(400, 401, 403, 404))
async def update_locations(body: LocationBatch, user: RunnerUser, request: Request) -> Response:
    """Up to 50 buffered GPS fixes in one request, each with the time it was taken. Each fix gets
    its verdict as a single ping would, in the request's order."""
    context: RunnerContext = request.app.state.runtime.context
    verdicts = await context.live.ingest_batch(user.user_id, body.fixes)
    return Response(Envelope[LocationBatchAck](data=_batch_ack(verdicts)).model_dump_json(),
                    media_type="application/json")


# --- runner profile -------------------------------------------------------------------------------


@runners.post("", status_code=201, response_model=Envelope[RunnerOut],
              responses=error_responses(400, 401, 403, 409))
async def register_runner(body: RunnerCreate, session: Session, user: RunnerUser) -> dict:
    runner = await service.register_runner(session, user, body)
    return ok(RunnerOut.model_validate(runner))


@runners.get("/me", response_model=Envelope[RunnerOut], responses=error_responses(401, 403, 404))
async def get_me(session: Session, user: RunnerUser) -> dict:
    return ok(RunnerOut.model_validate(await service.my_runner(session, user.user_id)))


@runners.put("/me", response_model=Envelope[RunnerOut],
             responses=error_responses(400, 401, 403, 404, 409))
async def update_me(body: RunnerUpdate, session: Session, user: RunnerUser, context: Ctx) -> dict:
    runner = await service.update_runner(session, context.live, user.user_id, body)
    return ok(RunnerOut.model_validate(runner))


@runners.post("/me/online", response_model=Envelope[Message],
              responses=error_responses(400, 401, 403, 404, 409))
async def go_online(body: Position, session: Session, user: RunnerUser, context: Ctx) -> dict:
    await service.go_online(session, context.live, user.user_id, body)
    return ok(Message(message="runner is now online"))


@runners.post("/me/offline", response_model=Envelope[Message],
              responses=error_responses(401, 403, 404, 409))
async def go_offline(session: Session, user: RunnerUser, context: Ctx) -> dict:
    await service.go_offline(session, context.live, user.user_id)
    return ok(Message(message="runner is now offline"))


# --- crates ---------------------------------------------------------------------------------------


@runners.get("/me/crates", response_model=Envelope[list[CrateSpecOut]],
             responses=error_responses(401, 403, 404))
async def list_crates(session: Session, user: RunnerUser) -> dict:
    crates = await service.my_crates(session, user.user_id)
    return ok([CrateSpecOut.model_validate(c) for c in crates])


@runners.post("/me/crates", status_code=201, response_model=Envelope[CrateSpecOut],
              responses=error_responses(400, 401, 403, 404, 409))
async def add_crate(body: CrateCreate, session: Session, user: RunnerUser, context: Ctx) -> dict:
    crate = await service.add_crate(session, context.live, user.user_id, body)
    return ok(CrateSpecOut.model_validate(crate))


@runners.get("/me/crates/{crate_id}", response_model=Envelope[CrateSpecOut],
             responses=error_responses(400, 401, 403, 404))
async def get_crate(crate_id: uuid.UUID, session: Session, user: RunnerUser) -> dict:
    return ok(CrateSpecOut.model_validate(await service.my_crate(session, user.user_id, crate_id)))


@runners.put("/me/crates/{crate_id}", response_model=Envelope[CrateSpecOut],
             responses=error_responses(400, 401, 403, 404, 409))
async def update_crate(crate_id: uuid.UUID, body: CrateUpdate, session: Session,
                       user: RunnerUser, context: Ctx) -> dict:
    crate = await service.update_crate(session, context.live, user.user_id, crate_id, body)
    return ok(CrateSpecOut.model_validate(crate))


@runners.delete("/me/crates/{crate_id}", response_model=Envelope[Message],
                responses=error_responses(400, 401, 403, 404, 409))
async def delete_crate(crate_id: uuid.UUID, session: Session, user: RunnerUser,
                       context: Ctx) -> dict:
    await service.delete_crate(session, context.live, user.user_id, crate_id)
    return ok(Message(message="crate deleted"))


# --- search ---------------------------------------------------------------------------------------


@runners.get("/nearby", response_model=Envelope[list[NearbyRunner]],
             responses=error_responses(400, 401))
async def nearby_runners(
    user: CurrentUser, context: Ctx, latitude: LatitudeQ, longitude: LongitudeQ,
    radius_km: Annotated[float, Query(gt=0, allow_inf_nan=False)] = 5.0,
    limit: LimitQ = 20,
    pet_type: PetType | None = None,
    weight_kg: Annotated[float | None, Query(gt=0, le=500, allow_inf_nan=False)] = None,
    needs_temp_control: bool | None = None,
    air_conditioned: bool | None = None,
) -> dict:
    """Available runners nearest first; pet filters keep only runners with a fitting crate."""
    _check_radius(radius_km, context.settings.nearby_max_radius_km)
    needs = PetNeeds(pet_type, weight_kg, needs_temp_control, air_conditioned)
    query = service.NearbyQuery(latitude, longitude, radius_km, limit, needs)
    return ok(await service.nearby_runners(context.live, query))


def _check_radius(radius_km: float, maximum: float) -> None:
    if radius_km > maximum:
        raise BadRequest(f"radius_km must be at most {maximum:g}")


@runners.get("/{runner_id}", response_model=Envelope[RunnerPublic],
             responses=error_responses(400, 401, 404))
async def get_runner(runner_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    """A runner by profile id or identity user id."""
    return ok(RunnerPublic.model_validate(await service.runner_by_id(session, runner_id)))


# --- pet shops ------------------------------------------------------------------------------------


@petshops.get("", response_model=Page[PetShopOut], responses=error_responses(400, 401))
async def list_shops(session: Session, user: CurrentUser, paging: Paging,
                     category: ShopCategory | None = None) -> dict:
    """Pet shops, best rated first."""
    shops, total = await service.list_shops(session, category.value if category else None,
                                            paging.offset, paging.limit)
    return page_of([PetShopOut.model_validate(s) for s in shops], total, paging)


@petshops.get("/nearby", response_model=Envelope[list[NearbyPetShop]],
              responses=error_responses(400, 401))
async def nearby_shops(
    session: Session, user: CurrentUser, latitude: LatitudeQ, longitude: LongitudeQ,
    radius_km: Annotated[float, Query(gt=0, le=100, allow_inf_nan=False)] = 10.0,
    limit: LimitQ = 20,
) -> dict:
    return ok(await service.nearby_shops(session, latitude, longitude, radius_km, limit))


@petshops.get("/mine", response_model=Page[PetShopOut], responses=error_responses(401, 403))
async def my_shops(session: Session, user: ShopUser, paging: Paging) -> dict:
    """The caller's shops, newest first."""
    shops, total = await service.my_shops(session, user.user_id, paging.offset, paging.limit)
    return page_of([PetShopOut.model_validate(s) for s in shops], total, paging)


@petshops.get("/{shop_id}", response_model=Envelope[PetShopOut],
              responses=error_responses(400, 401, 404))
async def get_shop(shop_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    return ok(PetShopOut.model_validate(await service.get_shop(session, shop_id)))


@petshops.post("", status_code=201, response_model=Envelope[PetShopOut],
               responses=error_responses(400, 401, 403))
async def create_shop(body: PetShopCreate, session: Session, user: ShopUser) -> dict:
    return ok(PetShopOut.model_validate(await service.create_shop(session, user.user_id, body)))


@petshops.put("/{shop_id}", response_model=Envelope[PetShopOut],
              responses=error_responses(400, 401, 403, 404, 409))
async def update_shop(shop_id: uuid.UUID, body: PetShopUpdate, session: Session,
                      user: ShopUser) -> dict:
    return ok(PetShopOut.model_validate(await service.update_shop(session, user, shop_id, body)))


@petshops.delete("/{shop_id}", response_model=Envelope[Message],
                 responses=error_responses(400, 401, 403, 404, 409))
async def delete_shop(shop_id: uuid.UUID, session: Session, user: ShopUser) -> dict:
    await service.delete_shop(session, user, shop_id)
    return ok(Message(message="pet shop deleted"))
