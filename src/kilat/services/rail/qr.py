"""Signed ticket QR payloads: ``KR1.<base64url(JSON)>.<base64url(Ed25519 signature)>``.

The JSON holds the ticket's fields (compact, sorted keys); the signature is over those JSON bytes.
A gate verifies offline with the public key (``GET /api/v1/rail/keys``)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kilat.platform.auth import ensure_keypair, load_private_key, load_public_key, public_jwk

PREFIX = "KR1"


class InvalidTicketCode(ValueError):
    """Not a ticket code this key signed: malformed, altered, or signed by another key."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidTicketCode("not base64url") from exc


def encode(fields: dict[str, Any], key: Ed25519PrivateKey) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False).encode()
    return f"{PREFIX}.{_b64(payload)}.{_b64(key.sign(payload))}"


def decode(code: str, key: Ed25519PublicKey) -> dict[str, Any]:
    """The ticket fields of a code this key signed; ``InvalidTicketCode`` otherwise."""
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise InvalidTicketCode(f"a ticket code has the form {PREFIX}.<payload>.<signature>")
    payload, signature = _unb64(parts[1]), _unb64(parts[2])
    try:
        key.verify(signature, payload)
    except InvalidSignature as exc:
        raise InvalidTicketCode("signature does not match") from exc
    try:
        fields = json.loads(payload)
    except ValueError as exc:
        raise InvalidTicketCode("payload is not JSON") from exc
    if not isinstance(fields, dict):
        raise InvalidTicketCode("payload is not an object")
    return fields


@dataclass(frozen=True)
class TicketSigner:
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, fields: dict[str, Any]) -> str:
        return encode(fields, self.private_key)

    def verify(self, code: str) -> dict[str, Any]:
        return decode(code, self.public_key)

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def jwk(self) -> dict[str, str]:
        return public_jwk(self.public_key)


def load_signer(private_path: Path | None, public_path: Path | None,
                keys_dir: Path) -> TicketSigner:
    """The configured key, else a development key pair generated into ``keys_dir``."""
    if private_path is None:
        private_path = keys_dir / "rail-qr-ed25519.pem"
        ensure_keypair(private_path, public_path or keys_dir / "rail-qr-ed25519.pub.pem")
    return TicketSigner(load_private_key(private_path))


def load_verifier(public_path: Path) -> Ed25519PublicKey:
    return load_public_key(public_path)
