"""Remembered access tokens are accepted exactly when a fresh check would accept them."""

import time
import uuid

import pytest

from kilat.platform import auth
from kilat.platform.auth import TokenIssuer, TokenVerifier, generate_keypair, load_private_key
from kilat.platform.auth import load_public_key
from kilat.platform.errors import Unauthorized


@pytest.fixture
def keys(tmp_path):
    generate_keypair(tmp_path / "k.pem", tmp_path / "k.pub")
    issuer = TokenIssuer(load_private_key(tmp_path / "k.pem"), issuer="kilat", access_ttl=60,
                         refresh_ttl=60)
    return issuer, TokenVerifier(load_public_key(tmp_path / "k.pub"), issuer="kilat")


def count_decodes(verifier: TokenVerifier, monkeypatch) -> list[str]:
    calls: list[str] = []
    decode = verifier.decode

    def counting(token: str, token_type: str):
        calls.append(token)
        return decode(token, token_type)

    monkeypatch.setattr(verifier, "decode", counting)
    return calls


def test_a_verified_token_is_checked_once_until_it_expires(keys, monkeypatch):
    issuer, verifier = keys
    calls = count_decodes(verifier, monkeypatch)
    token = issuer.access_token(uuid.uuid4(), "r@example.com", "runner")
    first = verifier.principal(token)
    assert verifier.principal(token) == first and len(calls) == 1
    now = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + 120)  # past the token's exp
    verifier.principal(token)
    assert len(calls) == 2  # checked again, so an expired token meets the real check


def test_a_token_signed_by_another_key_is_refused_by_each_verifier(keys, tmp_path):
    issuer, verifier = keys
    generate_keypair(tmp_path / "other.pem", tmp_path / "other.pub")
    other = TokenVerifier(load_public_key(tmp_path / "other.pub"), issuer="kilat")
    token = issuer.access_token(uuid.uuid4(), "r@example.com", "runner")
    verifier.principal(token)
    with pytest.raises(Unauthorized):
        other.principal(token)


def test_bad_tokens_are_never_remembered(keys, monkeypatch):
    _, verifier = keys
    calls = count_decodes(verifier, monkeypatch)
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.principal("not.a.token")
    assert len(calls) == 2


def test_the_memory_is_bounded(keys):
    issuer, _ = keys
    verifier = TokenVerifier(issuer.public_key, issuer="kilat", remembered=3)
    tokens = [issuer.access_token(uuid.uuid4(), f"r{i}@example.com", "runner") for i in range(5)]
    for token in tokens:
        verifier.principal(token)
    assert list(verifier._known) == tokens[-3:]


def test_a_revoked_user_is_refused_even_with_a_remembered_token_until_the_revocation_ends(keys):
    issuer, verifier = keys
    banned, other = uuid.uuid4(), uuid.uuid4()
    token = issuer.access_token(banned, "b@example.com", "runner")
    fine = issuer.access_token(other, "o@example.com", "runner")
    assert verifier.principal(token).user_id == banned  # remembered from here on
    verifier.revoke(banned, until=time.time() + 60)
    with pytest.raises(Unauthorized) as refused:
        verifier.principal(token)
    assert refused.value.detail == "the account is banned"
    with pytest.raises(Unauthorized):
        verifier.principal(issuer.access_token(banned, "b@example.com", "runner"))
    assert verifier.principal(fine).user_id == other
    verifier.revoke(banned, until=time.time() + 5)  # a shorter revocation never shortens one
    assert verifier.is_revoked(banned, now=time.time() + 30)
    assert not verifier.is_revoked(banned, now=time.time() + 61)  # over: tokens have expired
    assert verifier.principal(issuer.access_token(banned, "b@example.com", "runner"))
