"""Ticket codes and the in-memory seat locks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kilat.services.rail import qr
from kilat.services.rail.locks import MemorySeatLocks

FIELDS = {"v": 1, "tid": str(uuid.uuid4()), "name": "Nusrat Jahan", "seat": "12",
          "date": "2026-12-09"}


def test_a_code_round_trips_with_its_key_and_fails_with_another():
    key = Ed25519PrivateKey.generate()
    code = qr.encode(FIELDS, key)
    assert code.startswith("KR1.") and code.count(".") == 2
    assert qr.decode(code, key.public_key()) == FIELDS
    with pytest.raises(qr.InvalidTicketCode):
        qr.decode(code, Ed25519PrivateKey.generate().public_key())


def test_changing_one_character_of_the_payload_breaks_the_signature():
    key = Ed25519PrivateKey.generate()
    prefix, payload, signature = qr.encode(FIELDS, key).split(".")
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    with pytest.raises(qr.InvalidTicketCode):
        qr.decode(f"{prefix}.{flipped}.{signature}", key.public_key())


def test_the_signer_makes_and_keeps_a_development_key(tmp_path):
    first = qr.load_signer(None, None, tmp_path)
    again = qr.load_signer(None, None, tmp_path)
    assert first.jwk() == again.jwk()
    assert (tmp_path / "rail-qr-ed25519.pub.pem").exists()
    assert again.verify(first.sign(FIELDS)) == FIELDS


async def test_memory_locks_take_all_or_nothing_and_honour_the_holder():
    locks = MemorySeatLocks()
    journey, (a, b, c) = uuid.uuid4(), (uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert await locks.acquire(journey, [a, b], "one", later) == []
    assert await locks.acquire(journey, [b, c], "two", later) == [b]
    assert await locks.acquire(journey, [c], "three", later) == [], "c was not taken by 'two'"
    assert not await locks.extend(journey, [a, c], "one", later)
    await locks.release(journey, [a, b], "two")
    assert await locks.acquire(journey, [a], "four", later) == [a], "only the holder releases"
    await locks.release(journey, [a, b], "one")
    assert await locks.acquire(journey, [a, b], "four", later) == []


async def test_memory_locks_lapse_at_their_deadline():
    locks = MemorySeatLocks()
    journey, seat = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    assert await locks.acquire(journey, [seat], "one", now - timedelta(seconds=1)) == []
    assert await locks.acquire(journey, [seat], "two", now + timedelta(minutes=1)) == []
    assert await locks.acquire(journey, [seat], "three", datetime.now(UTC)) == [seat]
