"""EdDSA JWTs: identity signs, every service verifies locally with the public key."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kilat.platform.errors import Forbidden, Unauthorized
from kilat.platform.models import utcnow

ALGORITHM = "EdDSA"


def generate_keypair(private_path: Path, public_path: Path) -> None:
    """Write a new Ed25519 key pair as PEM files (private key readable by its owner only)."""
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def ensure_keypair(private_path: Path, public_path: Path) -> None:
    if not private_path.exists() or not public_path.exists():
        generate_keypair(private_path, public_path)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    x = _b64url(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    thumbprint = hashlib.sha256(f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()).digest()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": _b64url(thumbprint), "alg": ALGORITHM,
            "use": "sig"}


@dataclass(frozen=True)
class Principal:
    """The caller, as the access token says."""

    user_id: uuid.UUID
    email: str
    role: str
    token_id: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class TokenIssuer:
    def __init__(self, private_key: Ed25519PrivateKey, *, issuer: str, access_ttl: int,
                 refresh_ttl: int) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.kid = public_jwk(self.public_key)["kid"]
        self.issuer = issuer
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def _sign(self, claims: dict[str, Any], ttl: int) -> str:
        now = utcnow()
        claims |= {"iss": self.issuer, "iat": now, "exp": now + timedelta(seconds=ttl)}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def access_token(self, user_id: uuid.UUID, email: str, role: str) -> str:
        uid = str(user_id)
        claims = {"sub": uid, "user_id": uid, "email": email, "role": role,
                  "token_type": "access", "jti": str(uuid.uuid4())}
        return self._sign(claims, self.access_ttl)

    def refresh_token(self, user_id: uuid.UUID, jti: uuid.UUID, family_id: uuid.UUID) -> str:
        uid = str(user_id)
        claims = {"sub": uid, "user_id": uid, "token_type": "refresh", "jti": str(jti),
                  "fam": str(family_id)}
        return self._sign(claims, self.refresh_ttl)


class TokenVerifier:
    """Checks tokens against the identity service's public key.

    Access tokens are verified once and then remembered until their ``exp``: a runner pings every
    few seconds with the same token, and checking an Ed25519 signature costs more than the rest of
    the ping. The one thing that ends a token early is a ban: ``revoke`` makes every token of the
    user fail until the moment no token issued before the ban can still be valid
    (``kilat.platform.revocations`` spreads bans to every process).
    """

    def __init__(self, public_key: Ed25519PublicKey, *, issuer: str,
                 remembered: int = 100_000) -> None:
        self._key = public_key
        self.issuer = issuer
        self._remembered = remembered
        self._known: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._revoked: dict[uuid.UUID, float] = {}
        # called with the user id of every revocation (tracking closes the user's open sockets)
        self.revocation_listeners: list[Callable[[uuid.UUID], None]] = []

    def revoke(self, user_id: uuid.UUID, until: float) -> None:
        """Refuse every access token of ``user_id`` until ``until`` (epoch seconds)."""
        self._revoked[user_id] = max(until, self._revoked.get(user_id, 0.0))
        for listener in tuple(self.revocation_listeners):
            listener(user_id)

    def is_revoked(self, user_id: uuid.UUID, now: float | None = None) -> bool:
        until = self._revoked.get(user_id)
        if until is None:
            return False
        if until > (now if now is not None else time.time()):
            return True
        del self._revoked[user_id]  # every token issued before the ban has expired by now
        return False

    def decode(self, token: str, token_type: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "sub", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid or expired token") from exc
        if claims.get("token_type") != token_type:
            raise Unauthorized("invalid or expired token", f"expected a {token_type} token")
        return claims

    def principal(self, token: str) -> Principal:
        principal = self._verified(token)
        if self._revoked and self.is_revoked(principal.user_id):
            raise Unauthorized("invalid or expired token", "the account is banned")
        return principal

    def _verified(self, token: str) -> Principal:
        known = self._known.get(token)
        if known is not None and known[0] > time.time():
            return known[1]
        claims = self.decode(token, "access")
        try:
            user_id = uuid.UUID(claims["user_id"])
            principal = Principal(user_id, claims.get("email", ""), claims["role"], claims["jti"])
        except (KeyError, ValueError) as exc:
            raise Unauthorized("invalid or expired token") from exc
        self._known[token] = (float(claims["exp"]), principal)
        if len(self._known) > self._remembered:
            self._known.popitem(last=False)
        return principal


_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthorized("authorization header must be Bearer {token}")
        raise Unauthorized("authorization header is required")
    verifier: TokenVerifier = request.app.state.runtime.verifier
    return verifier.principal(credentials.credentials)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str):
    """Dependency: the caller must hold one of ``roles``."""

    async def _check(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise Forbidden("insufficient permissions")
        return user

    return Depends(_check)


def RequireRole(*roles: str):  # noqa: N802 - reads as a type in signatures
    return Annotated[Principal, require_role(*roles)]
