import uuid
import jwt
import pytest

from kilat.platform.auth import (
    TokenIssuer,
    TokenVerifier,
    generate_keypair,
    load_private_key,
    load_public_key,
    public_jwk,
)
from kilat.platform.errors import Unauthorized


@pytest.fixture
def keys(tmp_path):
    generate_keypair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    return load_private_key(tmp_path / "k.pem"), load_public_key(tmp_path / "k.pub.pem")


def make_issuer(private, access_ttl=900):
    return TokenIssuer(private, issuer="kilat", access_ttl=access_ttl, refresh_ttl=3600)


def test_access_token_round_trips_with_the_spec_claims(keys):
    private, public = keys
    user_id = uuid.uuid4()
    token = make_issuer(private).access_token(user_id, "a@b.co", "owner")
    claims = TokenVerifier(public, issuer="kilat").decode(token, "access")
    assert claims["sub"] == claims["user_id"] == str(user_id)
    assert (claims["email"], claims["role"], claims["token_type"], claims["iss"]) == (
        "a@b.co", "owner", "access", "kilat")
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"


def test_expired_token_is_refused(keys):
    private, public = keys
    token = make_issuer(private, access_ttl=-1).access_token(uuid.uuid4(), "a@b.co", "owner")
    with pytest.raises(Unauthorized):
        TokenVerifier(public, issuer="kilat").principal(token)


def test_token_signed_by_another_key_is_refused(keys, tmp_path):
    _, public = keys
    generate_keypair(tmp_path / "o.pem", tmp_path / "o.pub.pem")
    token = make_issuer(load_private_key(tmp_path / "o.pem")).access_token(uuid.uuid4(), "a@b.co", "admin")
    with pytest.raises(Unauthorized):
        TokenVerifier(public, issuer="kilat").principal(token)


def test_tampered_payload_is_refused(keys):
    private, public = keys
    header, payload, signature = make_issuer(private).access_token(uuid.uuid4(), "a@b.co", "owner").split(".")
    forged = jwt.utils.base64url_encode(b'{"role":"admin"}').decode()
    with pytest.raises(Unauthorized):
        TokenVerifier(public, issuer="kilat").principal(f"{header}.{forged}.{signature}")


def test_refresh_token_is_not_accepted_as_access(keys):
    private, public = keys
    token = make_issuer(private).refresh_token(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    with pytest.raises(Unauthorized):
        TokenVerifier(public, issuer="kilat").principal(token)


def test_wrong_issuer_is_refused(keys):
    private, public = keys
    token = make_issuer(private).access_token(uuid.uuid4(), "a@b.co", "owner")
    with pytest.raises(Unauthorized):
        TokenVerifier(public, issuer="someone-else").principal(token)


def test_jwk_kid_matches_token_header(keys):
    private, public = keys
    token = make_issuer(private).access_token(uuid.uuid4(), "a@b.co", "owner")
    jwk = public_jwk(public)
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    verified = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], issuer="kilat")
    assert verified["role"] == "owner"
