"""Gate staff: accounts only an admin creates, signed in by email like everyone else."""

import httpx
import pytest
from asgi_lifespan import LifespanManager

from kilat.app import build_embedded_app
from tests.service.identity.support import login, make_admin, recorded_events
from tests.support.cli import kilat
from tests.support.harness import make_settings
from tests.support.people import PASSWORD, bearer, new_email, register, sign_up


def staff(**overrides) -> dict:
    return {"email": new_email("gate"), "password": PASSWORD, "full_name": "Gate One",
            "role": "gate"} | overrides


async def test_an_admin_creates_gate_staff_who_can_sign_in(identity):
    runtime, client = identity
    admin = bearer((await make_admin(runtime, client))["access_token"])
    body = staff(email="  Gate.One@Example.com ")
    response = await client.post("/api/v1/admin/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    user = response.json()["data"]
    assert (user["email"], user["role"], user["full_name"], user["is_verified"]) == (
        "gate.one@example.com", "gate", "Gate One", True)
    signed_in = await login(client, "gate.one@example.com")
    assert signed_in["user"]["id"] == user["id"]
    [event] = [e for e in await recorded_events(runtime, "identity.user_registered")
               if e["user_id"] == user["id"]]
    assert event["role"] == "gate"


async def test_only_admins_create_staff(identity):
    _, client = identity
    for role in ("owner", "passenger", "driver"):
        caller = await register(client, role)
        refused = await client.post("/api/v1/admin/users", json=staff(), headers=caller.headers)
        assert refused.status_code == 403, role
    assert (await client.post("/api/v1/admin/users", json=staff())).status_code == 401


@pytest.mark.parametrize("overrides", [{"role": "admin"}, {"role": "passenger"}, {"role": "owner"},
                                       {"password": "short"}, {"email": "nope"},
                                       {"full_name": ""}])
async def test_invalid_staff_is_400_and_creates_nothing(identity, overrides):
    runtime, client = identity
    admin = bearer((await make_admin(runtime, client))["access_token"])
    response = await client.post("/api/v1/admin/users", json=staff(**overrides), headers=admin)
    assert response.status_code == 400
    listed = await client.get("/api/v1/admin/users", headers=admin)
    assert listed.json()["pagination"]["total"] == 1  # the admin alone


async def test_a_taken_email_is_409(identity):
    runtime, client = identity
    admin = bearer((await make_admin(runtime, client))["access_token"])
    taken = (await sign_up(client))["user"]["email"]
    response = await client.post("/api/v1/admin/users", json=staff(email=taken), headers=admin)
    assert response.status_code == 409


async def test_gate_cannot_self_register(identity):
    _, client = identity
    response = await client.post("/api/v1/auth/register", json={
        "email": new_email(), "password": PASSWORD, "full_name": "G", "role": "gate"})
    assert response.status_code == 403


async def test_the_cli_creates_gate_staff_who_sign_in(tmp_path):
    result = kilat("admin", "create", "--role", "gate", "--email", "gate@example.com",
                   "--password", "sup3r-secret", "--full-name", "Gate Two",
                   env={"KILAT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr + result.stdout
    again = kilat("admin", "create", "--role", "gate", "--email", "gate@example.com",
                  "--password", "sup3r-secret", env={"KILAT_DATA_DIR": str(tmp_path)})
    assert again.returncode == 2 and "already exists" in again.stdout
    assert kilat("admin", "create", "--role", "owner", "--email", "o@example.com", "--password",
                 "sup3r-secret", env={"KILAT_DATA_DIR": str(tmp_path)}).returncode == 2
    app = build_embedded_app(make_settings(tmp_path), services=["identity"])
    async with LifespanManager(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kilat") as client:
        signed_in = await client.post("/api/v1/auth/login", json={
            "email": "gate@example.com", "password": "sup3r-secret"})
        assert signed_in.status_code == 200, signed_in.text
        assert (signed_in.json()["data"]["user"]["role"],
                signed_in.json()["data"]["user"]["full_name"]) == ("gate", "Gate Two")
