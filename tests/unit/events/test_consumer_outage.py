"""A consumer whose database is down on an event's last attempt keeps the event for later."""

from contextlib import asynccontextmanager

import pytest

from kilat.platform.errors import ServiceUnavailable
from kilat.platform.events.bus import Delivery
from kilat.platform.events.consumer import EventConsumer
from kilat.platform.events.envelope import new_event


class DatabaseDown:
    def __init__(self) -> None:
        self.sessions = 0

    @asynccontextmanager
    async def session(self):
        self.sessions += 1
        raise ServiceUnavailable("database unavailable", "connection refused")
        yield  # pragma: no cover


async def handler(session, event) -> None:  # pragma: no cover - never reached
    raise AssertionError("the database was down")


async def test_last_attempt_during_an_outage_is_not_dead_lettered():
    database = DatabaseDown()
    consumer = EventConsumer("notes", database, {"note.*": handler})
    event = new_event("note.created", {}, source="notes")
    with pytest.raises(ServiceUnavailable):
        await consumer(Delivery(event, attempt=5, max_attempts=5))
    assert database.sessions == 1  # the handler's session only: no dead-letter write was tried


async def test_last_attempt_of_a_bad_event_is_dead_lettered():
    written = []

    class Database:
        @asynccontextmanager
        async def session(self):
            yield Session()

    class Session:
        async def scalar(self, _statement):
            return None

        async def execute(self, statement):
            written.append(statement.table.name)

    async def broken(session, event):
        raise ValueError("cannot apply")

    consumer = EventConsumer("notes", Database(), {"note.*": broken})
    await consumer(Delivery(new_event("note.created", {}, source="notes"), 5, 5))
    assert written[-1] == "event_dead_letters"
