"""Access and refresh JWTs as identity issues them: verify, expiry, tampering, token type."""

import base64
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kilat.platform.auth import TokenIssuer, TokenVerifier
from kilat.platform.errors import Unauthorized

KEY = Ed25519PrivateKey.generate()


def issuer(key: Ed25519PrivateKey = KEY, *, access_ttl: int = 900, refresh_ttl: int = 3600) -> TokenIssuer:
    return TokenIssuer(key, issuer="kilat", access_ttl=access_ttl, refresh_ttl=refresh_ttl)


VERIFIER = TokenVerifier(KEY.public_key(), issuer="kilat")


def test_access_token_round_trips_to_the_principal():
    user_id = uuid.uuid4()
    principal = VERIFIER.principal(issuer().access_token(user_id, "a@example.com", "runner"))
    assert (principal.user_id, principal.email, principal.role) == (user_id, "a@example.com", "runner")
    assert principal.is_admin is False


def test_refresh_token_carries_its_id_and_family():
    user_id, jti, family = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    claims = VERIFIER.decode(issuer().refresh_token(user_id, jti, family), "refresh")
    assert (claims["user_id"], claims["jti"], claims["fam"]) == (str(user_id), str(jti), str(family))


def test_expired_access_token_is_unauthorized():
    token = issuer(access_ttl=-1).access_token(uuid.uuid4(), "a@example.com", "owner")
    with pytest.raises(Unauthorized):
        VERIFIER.principal(token)


def test_token_signed_with_another_key_is_unauthorized():
    forged = issuer(Ed25519PrivateKey.generate()).access_token(uuid.uuid4(), "a@example.com", "admin")
    with pytest.raises(Unauthorized):
        VERIFIER.principal(forged)


def test_token_with_an_altered_payload_is_unauthorized():
    header, payload, signature = issuer().access_token(uuid.uuid4(), "a@example.com", "owner").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        VERIFIER.principal(f"{header}.{altered}.{signature}")


def test_token_from_another_issuer_is_unauthorized():
    token = TokenIssuer(KEY, issuer="someone-else", access_ttl=900, refresh_ttl=900).access_token(
        uuid.uuid4(), "a@example.com", "owner")
    with pytest.raises(Unauthorized):
        VERIFIER.principal(token)


def test_refresh_token_is_refused_where_an_access_token_is_expected():
    token = issuer().refresh_token(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    with pytest.raises(Unauthorized):
        VERIFIER.principal(token)


def test_access_token_is_refused_where_a_refresh_token_is_expected():
    token = issuer().access_token(uuid.uuid4(), "a@example.com", "owner")
    with pytest.raises(Unauthorized):
        VERIFIER.decode(token, "refresh")
