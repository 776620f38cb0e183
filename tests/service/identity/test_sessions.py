"""Refresh-token rotation, reuse detection, logout and the published signing key."""

import asyncio
import base64

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.service.identity.support import login
from tests.support.people import bearer, register, sign_up

async def refresh(client, token: str):
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_refresh_returns_a_new_pair_in_the_same_family(identity):
    runtime, client = identity
    first = await sign_up(client)
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()["data"]
    assert second["user"]["id"] == first["user"]["id"]
    old_claims = runtime.verifier.decode(first["refresh_token"], "refresh")
    new_claims = runtime.verifier.decode(second["refresh_token"], "refresh")
    assert new_claims["fam"] == old_claims["fam"] and new_claims["jti"] != old_claims["jti"]
    assert (await refresh(client, second["refresh_token"])).status_code == 200


async def test_used_refresh_token_is_401_and_revokes_its_whole_family(identity):
    _, client = identity
    first = await sign_up(client)
    second = (await refresh(client, first["refresh_token"])).json()["data"]
    other_session = await login(client, first["user"]["email"])

    reused = await refresh(client, first["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["success"] is False
    assert (await refresh(client, second["refresh_token"])).status_code == 401, "family revoked"
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200


async def test_concurrent_use_of_one_refresh_token_succeeds_exactly_once(identity):
    _, client = identity
    token = (await sign_up(client))["refresh_token"]
    responses = await asyncio.gather(refresh(client, token), refresh(client, token))
    assert sorted(r.status_code for r in responses) == [200, 401]


async def test_refresh_refuses_access_tokens_and_garbage(identity):
    _, client = identity
    registered = await register(client)
    assert (await refresh(client, registered.token)).status_code == 401
    assert (await refresh(client, "not-a-jwt")).status_code == 401
    assert (await client.post("/api/v1/auth/refresh", json={})).status_code == 400


async def test_logout_with_a_refresh_token_ends_only_that_session(identity):
    _, client = identity
    first = await sign_up(client)
    second = await login(client, first["user"]["email"])
    response = await client.post("/api/v1/auth/logout", headers=bearer(first["access_token"]),
                                 json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"message": "logged out successfully"}}
    assert (await refresh(client, first["refresh_token"])).status_code == 401
    assert (await refresh(client, second["refresh_token"])).status_code == 200


async def test_logout_without_a_refresh_token_ends_every_session(identity):
    _, client = identity
    first = await sign_up(client)
    second = await login(client, first["user"]["email"])
    response = await client.post("/api/v1/auth/logout", headers=bearer(second["access_token"]))
    assert response.status_code == 200
    assert (await refresh(client, first["refresh_token"])).status_code == 401
    assert (await refresh(client, second["refresh_token"])).status_code == 401


async def test_logout_needs_a_token_and_refuses_someone_elses_refresh_token(identity):
    _, client = identity
    mine = await register(client)
    theirs = await sign_up(client)
    assert (await client.post("/api/v1/auth/logout")).status_code == 401
    response = await client.post("/api/v1/auth/logout", headers=mine.headers,
                                 json={"refresh_token": theirs["refresh_token"]})
    assert response.status_code == 403
    assert (await refresh(client, theirs["refresh_token"])).status_code == 200


async def test_jwks_serves_the_key_that_verifies_issued_tokens(identity):
    _, client = identity
    registered = await sign_up(client)
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    raw = base64.urlsafe_b64decode(key["x"] + "=" * (-len(key["x"]) % 4))
    public_key = Ed25519PublicKey.from_public_bytes(raw)
    token = registered["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    claims = jwt.decode(token, public_key, algorithms=["EdDSA"], issuer="kilat")
    assert claims["user_id"] == registered["user"]["id"]

