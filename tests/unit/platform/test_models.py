"""Model bases on a real SQLite file: ids, UTC timestamps, the version lock, service bases."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError

from kilat.platform.models import UTCDateTime, service_base
from tests.support.notes.models import Note


async def test_an_entity_gets_a_uuid_and_utc_timestamps(notes_db):
    async with notes_db.session() as session:
        note = Note(text="hello")
        session.add(note)
        await session.flush()
        note_id = note.id
    async with notes_db.session(write=False) as session:
        stored = await session.get(Note, note_id)
        assert stored.created_at.tzinfo is UTC and stored.updated_at.tzinfo is UTC
        assert stored.version == 1


async def test_an_update_moves_updated_at_and_the_version(notes_db):
    async with notes_db.session() as session:
        note = Note(text="hello")
        session.add(note)
        await session.flush()
        note_id, created = note.id, note.updated_at
    async with notes_db.session() as session:
        note = await session.get(Note, note_id)
        note.text = "changed"
    async with notes_db.session(write=False) as session:
        stored = await session.get(Note, note_id)
        assert stored.version == 2 and stored.updated_at >= created


async def test_a_stale_update_raises_stale_data_error(notes_db):
    async with notes_db.session() as session:
        note = Note(text="hello")
        session.add(note)
        await session.flush()
        note_id = note.id
    with pytest.raises(StaleDataError):
        async with notes_db.session() as session:
            note = await session.get(Note, note_id)
            # another writer got there first: the row's version moved on under this session
            await session.execute(update(Note).where(Note.id == note_id)
                                  .values(version=Note.version + 1)
                                  .execution_options(synchronize_session=False))
            note.text = "mine"
            await session.flush()


def test_utc_datetime_refuses_naive_values_and_stores_utc():
    column = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 1, 1), None)
    plus_eight = datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    assert column.process_bind_param(plus_eight, None) == datetime(2026, 1, 1, tzinfo=UTC)
    assert column.process_result_value(datetime(2026, 1, 1), None).tzinfo is UTC


def test_a_service_base_has_its_own_metadata_with_the_event_tables():
    first, second = service_base("alpha"), service_base("beta")
    assert first.metadata is not second.metadata
    assert {"event_outbox", "event_inbox", "event_dead_letters"} <= set(first.metadata.tables)
    assert first.metadata.naming_convention["pk"] == "pk_%(table_name)s"
