"""Pet profiles: owned by one owner, archived instead of deleted, copied into bookings."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.platform.errors import Forbidden, Unprocessable, not_found
from kilat.services.booking.models import Pet
from kilat.services.booking.repository import PetRepository
from kilat.services.booking.schemas import PetCreate, PetUpdate

ACTIVE = "active"
ARCHIVED = "archived"
PROFILE_TO_SPEC = ("pet_type", "name", "weight_kg", "breed", "age_months", "special_needs",
                   "photo_url")


async def _load(session: AsyncSession, pet_id: uuid.UUID) -> Pet:
    pet = await PetRepository(session).get(pet_id)
    if pet is None:
        raise not_found("Pet", pet_id)
    return pet


async def _own(session: AsyncSession, user: Principal, pet_id: uuid.UUID) -> Pet:
    pet = await _load(session, pet_id)
    if pet.owner_id != user.user_id:
        raise Forbidden("not your pet")
    return pet


async def create_pet(session: AsyncSession, user: Principal, body: PetCreate) -> Pet:
    pet = Pet(owner_id=user.user_id, status=ACTIVE, **body.model_dump())
    session.add(pet)
    await session.flush()
    return pet


async def list_pets(session: AsyncSession, user: Principal) -> list[Pet]:
    return await PetRepository(session).active_of(user.user_id)


async def get_pet(session: AsyncSession, user: Principal, pet_id: uuid.UUID) -> Pet:
    if user.is_admin:
        return await _load(session, pet_id)
    return await _own(session, user, pet_id)


async def update_pet(session: AsyncSession, user: Principal, pet_id: uuid.UUID,
                     body: PetUpdate) -> Pet:
    """Partial update: only the fields given with a value change."""
    pet = await _own(session, user, pet_id)
    if pet.status == ARCHIVED:
        raise Unprocessable("pet profile is archived")
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(pet, name, value)
    await session.flush()
    return pet


async def archive_pet(session: AsyncSession, user: Principal, pet_id: uuid.UUID) -> None:
    pet = await _own(session, user, pet_id)
    if pet.status != ARCHIVED:
        pet.status = ARCHIVED
        await session.flush()


async def active_pet(session: AsyncSession, user: Principal, pet_id: uuid.UUID) -> Pet:
    """The caller's own pet, if it is not archived."""
    pet = await _own(session, user, pet_id)
    if pet.status != ACTIVE:
        raise Unprocessable("pet profile is archived")
    return pet


def pet_spec_of(pet: Pet) -> dict:
    """A pet profile as a booking ``pet_spec``; pricing needs its weight."""
    if pet.weight_kg is None:
        raise Unprocessable("pet profile has no weight_kg",
                            "add it to the profile or send pet_spec")
    spec = {name: getattr(pet, name) for name in PROFILE_TO_SPEC}
    return {name: value for name, value in spec.items() if value is not None} | {"vaccinations": []}
