"""A process learns the bans in force from the bus before it serves, or does not start."""

import time
import uuid
from datetime import UTC, datetime

import pytest

from kilat.contracts.identity import UserBanned
from kilat.platform import revocations
from kilat.platform.auth import TokenVerifier, generate_keypair, load_public_key
from kilat.platform.events.bus import MemoryBus
from kilat.platform.events.envelope import Event
from kilat.platform.runtime import Infrastructure
from kilat.platform.settings import Settings


class UnreadableBus(MemoryBus):
    def __init__(self, events: list[Event] | None = None, failures: int = 0) -> None:
        super().__init__()
        self.events, self.failures = events or [], failures

    async def recent(self, event_type, since):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("stream unavailable")
        return [event for event in self.events if event.type == event_type and event.time >= since]


def process(tmp_path, bus) -> Infrastructure:
    generate_keypair(tmp_path / "k.pem", tmp_path / "k.pub")
    verifier = TokenVerifier(load_public_key(tmp_path / "k.pub"), issuer="kilat")
    return Infrastructure(settings=Settings(data_dir=tmp_path), bus=bus, verifier=verifier)


def ban(user_id: uuid.UUID, seconds_ago: float) -> Event:
    return Event(source="identity", type=UserBanned.TYPE, data={"user_id": str(user_id)},
                 time=datetime.fromtimestamp(time.time() - seconds_ago, UTC))


async def test_bans_whose_tokens_may_still_be_valid_are_loaded_and_older_ones_are_not(tmp_path):
    recent, old = uuid.uuid4(), uuid.uuid4()
    ttl = Settings().access_token_ttl_seconds
    infra = process(tmp_path, UnreadableBus([ban(recent, ttl - 1), ban(old, ttl + 61)]))
    await revocations.follow(infra)
    assert infra.verifier.is_revoked(recent)
    assert not infra.verifier.is_revoked(old)


async def test_a_bus_that_recovers_is_read_again(tmp_path):
    user_id = uuid.uuid4()
    infra = process(tmp_path, UnreadableBus([ban(user_id, 1)], failures=1))
    await revocations.follow(infra)
    assert infra.verifier.is_revoked(user_id)


async def test_a_process_that_cannot_read_the_bans_does_not_start(tmp_path, monkeypatch):
    monkeypatch.setattr(revocations, "LOAD_ATTEMPTS", 2)
    infra = process(tmp_path, UnreadableBus([ban(uuid.uuid4(), 1)], failures=2))
    with pytest.raises(RuntimeError, match="bans in force could not be read"):
        await revocations.follow(infra)


async def test_a_ban_event_without_a_user_id_is_skipped_and_the_others_load(tmp_path):
    user_id = uuid.uuid4()
    broken = Event(source="identity", type=UserBanned.TYPE, data={"user_id": "not-a-uuid"})
    infra = process(tmp_path, UnreadableBus([broken, ban(user_id, 1)]))
    await revocations.follow(infra)
    assert infra.verifier.is_revoked(user_id)
