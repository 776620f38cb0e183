"""An oversized body is refused with 413 in the envelope in both profiles, before it is read."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from tests.e2e.platform import Platform

TWO_MIB = 2 * 1024 * 1024  # over the default KILAT_MAX_BODY_BYTES (1 MiB)
TOO_LARGE = {"success": False, "error": "request body too large",
             "detail": "the limit is 1048576 bytes"}


def chunks(total: int, size: int = 65536) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b" " * size


def test_an_oversized_login_body_is_413_declared_or_chunked(platform: Platform):
    login = f"{platform.url}/api/v1/auth/login"
    with httpx.Client(timeout=30) as client:
        declared = client.post(login, content=b'{"email": "' + b"a" * TWO_MIB + b'"}',
                               headers={"Content-Type": "application/json"})
        chunked = client.post(login, content=chunks(TWO_MIB),
                              headers={"Content-Type": "application/json"})
        after = client.post(login, json={"email": "nobody@example.com", "password": "x" * 8})
    assert (declared.status_code, declared.json()) == (413, TOO_LARGE)
    assert (chunked.status_code, chunked.json()) == (413, TOO_LARGE)
    assert after.status_code in (400, 401)  # the connection still serves ordinary requests
