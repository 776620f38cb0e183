"""Admin user management: list, read, ban, stats; and admins created outside self-registration."""

import uuid

import pytest

from kilat.services.identity import service
from tests.service.identity.support import login, make_admin, recorded_events
from tests.support.harness import auth_headers
from tests.support.people import PASSWORD, bearer, new_email, register, sign_up

ADMIN_ROUTES = [
    ("GET", "/api/v1/admin/users"),
    ("GET", f"/api/v1/admin/users/{uuid.uuid4()}"),
    ("POST", f"/api/v1/admin/users/{uuid.uuid4()}/ban"),
    ("GET", "/api/v1/admin/stats/users"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_refuse_other_roles_and_anonymous_callers(identity, method, path):
    _, client = identity
    owner = await register(client)
    refused = await client.request(method, path, headers=owner.headers)
    anonymous = await client.request(method, path)
    assert (refused.status_code, anonymous.status_code) == (403, 401)
    assert refused.json()["error"] == "insufficient permissions"


async def test_admin_lists_users_newest_first_with_pagination(identity):
    runtime, client = identity
    admin = await make_admin(runtime, client)
    users = [(await sign_up(client))["user"] for _ in range(4)]
    headers = bearer(admin["access_token"])

    first = (await client.get("/api/v1/admin/users?page=1&limit=2", headers=headers)).json()
    second = (await client.get("/api/v1/admin/users?page=2&limit=2", headers=headers)).json()
    third = (await client.get("/api/v1/admin/users?page=3&limit=2", headers=headers)).json()

    assert first["pagination"] == {"total": 5, "page": 1, "limit": 2, "total_pages": 3}
    listed = [u["id"] for u in first["data"] + second["data"] + third["data"]]
    assert listed == [u["id"] for u in reversed(users)] + [admin["user"]["id"]]
    assert first["data"][0] == users[-1]


async def test_admin_reads_one_user_and_unknown_ids_are_404(identity):
    runtime, client = identity
    admin = bearer((await make_admin(runtime, client))["access_token"])
    user = (await sign_up(client))["user"]
    found = await client.get(f"/api/v1/admin/users/{user['id']}", headers=admin)
    assert found.status_code == 200 and found.json()["data"] == user
    assert (await client.get(f"/api/v1/admin/users/{uuid.uuid4()}", headers=admin)).status_code == 404
    assert (await client.get("/api/v1/admin/users/not-a-uuid", headers=admin)).status_code == 400


async def test_banned_user_cannot_log_in_refresh_or_use_their_profile(identity):
    runtime, client = identity
    admin = await make_admin(runtime, client)
    victim = await sign_up(client)
    user_id = victim["user"]["id"]
    response = await client.post(f"/api/v1/admin/users/{user_id}/ban",
                                 headers=bearer(admin["access_token"]), json={"reason": "fraud"})
    assert response.status_code == 200
    assert response.json()["data"] == {"message": "user banned successfully"}

    login_attempt = await client.post("/api/v1/auth/login",
                                      json={"email": victim["user"]["email"], "password": PASSWORD})
    assert login_attempt.status_code == 403
    assert login_attempt.json()["error"] == "account is banned"
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]})
    assert refresh.status_code == 401
    # the access token issued before the ban is refused at once, not when it expires
    profile = await client.get("/api/v1/auth/profile", headers=bearer(victim["access_token"]))
    assert profile.status_code == 401 and profile.json()["detail"] == "the account is banned"
    shown = await client.get(f"/api/v1/admin/users/{user_id}", headers=bearer(admin["access_token"]))
    assert shown.json()["data"]["is_banned"] is True
    [event] = await recorded_events(runtime, "identity.user_banned")
    assert event["user_id"] == user_id and event["banned_by"] == admin["user"]["id"]
    assert event["reason"] == "fraud"


async def test_banning_twice_is_harmless_and_recorded_once(identity):
    runtime, client = identity
    admin = bearer((await make_admin(runtime, client))["access_token"])
    user_id = (await sign_up(client))["user"]["id"]
    for _ in range(2):
        response = await client.post(f"/api/v1/admin/users/{user_id}/ban", headers=admin)
        assert response.status_code == 200
    assert len(await recorded_events(runtime, "identity.user_banned")) == 1


async def test_admins_cannot_be_banned_not_even_by_themselves(identity):
    runtime, client = identity
    admin = await make_admin(runtime, client)
    other_admin = await make_admin(runtime, client)
    headers = bearer(admin["access_token"])
    for target in (admin, other_admin):
        response = await client.post(f"/api/v1/admin/users/{target['user']['id']}/ban", headers=headers)
        assert response.status_code == 403
        assert response.json()["error"] == "cannot ban an admin"
    assert (await login(client, admin["user"]["email"]))["user"]["is_banned"] is False


async def test_banning_an_unknown_user_is_404(identity, infra):
    _, client = identity
    response = await client.post(f"/api/v1/admin/users/{uuid.uuid4()}/ban",
                                 headers=auth_headers(infra, "admin"))
    assert response.status_code == 404


async def test_user_stats_count_users_by_role(identity):
    runtime, client = identity
    admin = await make_admin(runtime, client)
    for role in ("owner", "owner", "runner", "shop"):
        await sign_up(client, role=role)
    response = await client.get("/api/v1/admin/stats/users", headers=bearer(admin["access_token"]))
    assert response.status_code == 200
    assert response.json()["data"] == {
        "total_users": 5, "by_role": {"owner": 2, "runner": 1, "shop": 1, "admin": 1}}


async def test_create_admin_promotes_an_existing_account_with_a_new_password(identity):
    runtime, client = identity
    owner = await sign_up(client)
    email = owner["user"]["email"]
    async with runtime.database.session() as session:
        admin = await service.create_admin(session, email.upper(), "admin-password",
                                           passwords=runtime.context.authority.passwords)
    assert admin.id == uuid.UUID(owner["user"]["id"])
    signed_in = await login(client, email, "admin-password")
    assert signed_in["user"]["role"] == "admin"
    assert runtime.verifier.decode(signed_in["access_token"], "access")["role"] == "admin"
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner["refresh_token"]})
    assert refresh.status_code == 401


async def test_create_admin_creates_a_verified_admin(identity):
    runtime, client = identity
    email = new_email("root")
    async with runtime.database.session() as session:
        admin = await service.create_admin(session, email, PASSWORD,
                                           passwords=runtime.context.authority.passwords)
    assert (admin.role, admin.full_name, admin.is_verified) == ("admin", "Administrator", True)
    assert (await login(client, email))["user"]["role"] == "admin"


async def test_a_ban_stops_the_users_tokens_in_every_service_at_once_and_after_a_restart(tmp_path):
    from contextlib import AsyncExitStack

    from kilat.services.booking import descriptor as booking
    from kilat.services.identity import descriptor as identity
    from tests.support.harness import embedded_infra, running_service

    async def both(stack: AsyncExitStack):
        infra = await stack.enter_async_context(embedded_infra(tmp_path))
        runtime, ids = await stack.enter_async_context(running_service(identity, infra))
        _, bookings = await stack.enter_async_context(running_service(booking, infra))
        return runtime, ids, bookings

    async with AsyncExitStack() as stack:
        runtime, ids, bookings = await both(stack)
        admin = await make_admin(runtime, ids)
        victim, bystander = await sign_up(ids), await sign_up(ids)
        listed = await bookings.get("/api/v1/bookings", headers=bearer(victim["access_token"]))
        assert listed.status_code == 200  # the token is remembered by booking's verifier
        await ids.post(f"/api/v1/admin/users/{victim['user']['id']}/ban",
                       headers=bearer(admin["access_token"]))
        refused = await bookings.get("/api/v1/bookings", headers=bearer(victim["access_token"]))
        assert refused.status_code == 401 and refused.json()["detail"] == "the account is banned"
        still = await bookings.get("/api/v1/bookings", headers=bearer(bystander["access_token"]))
        assert still.status_code == 200
    async with AsyncExitStack() as stack:  # a restart: bans were only in memory
        _, _, bookings = await both(stack)
        again = await bookings.get("/api/v1/bookings", headers=bearer(victim["access_token"]))
        assert again.status_code == 401
        assert (await bookings.get("/api/v1/bookings",
                                   headers=bearer(bystander["access_token"]))).status_code == 200
