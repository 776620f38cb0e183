"""bcrypt password hashes, computed in a worker thread: hashing is slow on purpose."""

from __future__ import annotations

import anyio.to_thread
import bcrypt

from kilat.services.identity.domain import MAX_PASSWORD_BYTES, password_bytes

DEFAULT_ROUNDS = 12


class PasswordHasher:
    def __init__(self, rounds: int = DEFAULT_ROUNDS) -> None:
        self.rounds = rounds
        self._decoy: bytes | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Check ``password``; with no stored hash, spend the same time on a decoy and fail."""
        return await anyio.to_thread.run_sync(self._verify, password, hashed)

    def _hash(self, password: str) -> str:
        return bcrypt.hashpw(password_bytes(password), bcrypt.gensalt(self.rounds)).decode()

    def _verify(self, password: str, hashed: str | None) -> bool:
        candidate = password_bytes(password)
        if len(candidate) > MAX_PASSWORD_BYTES:
            return False
        if hashed is None:
            bcrypt.checkpw(candidate, self._decoy_hash())
            return False
        return bcrypt.checkpw(candidate, hashed.encode())

    def _decoy_hash(self) -> bytes:
        if self._decoy is None:
            self._decoy = bcrypt.hashpw(b"decoy password", bcrypt.gensalt(self.rounds))
        return self._decoy
