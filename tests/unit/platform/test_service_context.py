"""The descriptor's settings class and Context: made once, on first use, reached by one dependency."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic_settings import BaseSettings, SettingsConfigDict

from kilat.platform.runtime import ServiceRuntime, create_service_app, service_context
from tests.support.notes import descriptor as notes


class NotesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_NOTES_", extra="ignore")

    greeting: str = "hello"


@dataclass(frozen=True)
class NotesContext:
    settings: NotesSettings


MADE: list[int] = []


def notes_context(runtime: ServiceRuntime) -> NotesContext:
    MADE.append(1)
    return NotesContext(runtime.own_settings())


Ctx = Annotated[NotesContext, Depends(service_context)]
router = APIRouter()


@router.get("/greeting")
async def greeting(context: Ctx) -> dict:
    return {"greeting": context.settings.greeting}


def runtime_of(infra, **changes) -> ServiceRuntime:
    descriptor = replace(notes, routers=[router], settings=NotesSettings, context=notes_context,
                         **changes)
    return ServiceRuntime(descriptor, infra)


@pytest.fixture(autouse=True)
def fresh():
    MADE.clear()


async def test_the_context_is_made_once_on_first_use_from_the_environment(infra, monkeypatch):
    monkeypatch.setenv("KILAT_NOTES_GREETING", "selamat pagi")
    runtime = runtime_of(infra)
    assert MADE == []
    assert runtime.context is runtime.context
    assert runtime.context.settings.greeting == "selamat pagi" and MADE == [1]
    await runtime.database.dispose()


async def test_settings_given_by_service_name_win_over_the_environment(infra, monkeypatch):
    monkeypatch.setenv("KILAT_NOTES_GREETING", "selamat pagi")
    infra.service_settings["notes"] = NotesSettings(greeting="hai")
    runtime = runtime_of(infra)
    assert runtime.context.settings.greeting == "hai"
    await runtime.database.dispose()


async def test_a_route_reaches_the_context_through_service_context(infra):
    infra.service_settings["notes"] = NotesSettings(greeting="hai")
    runtime = runtime_of(infra)
    app = create_service_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        first = await c.get("/greeting")
        second = await c.get("/greeting")
    assert first.json() == second.json() == {"greeting": "hai"} and MADE == [1]
    await runtime.database.dispose()


async def test_a_service_without_a_context_or_settings_says_so(infra):
    runtime = ServiceRuntime(notes, infra)
    with pytest.raises(RuntimeError, match="notes declares no context"):
        _ = runtime.context
    with pytest.raises(RuntimeError, match="notes declares no settings"):
        runtime.own_settings()
    await runtime.database.dispose()
