"""The kernel's Repository base on a real SQLite file: get, 404, load, pages, ON CONFLICT."""

import uuid

import pytest
from sqlalchemy import select, update

from kilat.platform.errors import NotFound
from kilat.platform.repository import Repository
from kilat.platform.schemas import PageParams
from tests.support.notes.models import Note, NoteEcho


class Notes(Repository[Note]):
    model = Note
    entity = "Note"


async def add_notes(database, *texts: str) -> list[uuid.UUID]:
    async with database.session() as session:
        notes = [Note(text=text) for text in texts]
        session.add_all(notes)
        await session.flush()
        return [note.id for note in notes]


async def test_get_reads_the_repositorys_model_by_id(notes_db):
    [note_id] = await add_notes(notes_db, "hello")
    async with notes_db.session(write=False) as session:
        note = await Notes(session).get(note_id)
        assert (note.id, note.text) == (note_id, "hello")
        assert await Notes(session).get(uuid.uuid4()) is None


async def test_get_or_404_names_the_entity_and_id(notes_db):
    missing = uuid.uuid4()
    async with notes_db.session(write=False) as session:
        with pytest.raises(NotFound) as refused:
            await Notes(session).get_or_404(missing)
    assert refused.value.status_code == 404
    assert "Note" in refused.value.detail and str(missing) in refused.value.detail


async def test_load_reads_any_mapped_class_and_load_or_404_refuses_a_missing_one(notes_db):
    async with notes_db.session() as session:
        echo = NoteEcho(note_id="n-1", times=2)
        session.add(echo)
        await session.flush()
        echo_id = echo.id
    async with notes_db.session(write=False) as session:
        assert (await Notes(session).load(NoteEcho, echo_id)).times == 2
        with pytest.raises(NotFound):
            await Notes(session).load_or_404(NoteEcho, uuid.uuid4(), "Echo")


async def test_paginate_gives_one_page_and_the_total_without_paging(notes_db):
    await add_notes(notes_db, *(f"note {i}" for i in range(5)))
    async with notes_db.session(write=False) as session:
        query = select(Note).order_by(Note.text)
        rows, total = await Notes(session).paginate(query, PageParams(page=2, limit=2))
        assert ([note.text for note in rows], total) == (["note 2", "note 3"], 5)
        rows, total = await Notes(session).paginate(query, offset=4, limit=10)
        assert ([note.text for note in rows], total) == (["note 4"], 5)


async def test_insert_on_conflict_do_nothing_keeps_the_first_row_on_sqlite(notes_db):
    [note_id] = await add_notes(notes_db, "first")
    async with notes_db.session() as session:
        notes = Notes(session)
        assert (notes.dialect, notes.is_postgres) == ("sqlite", False)
        await session.execute(notes.insert(Note.__table__)
                              .values(id=note_id, text="second", version=1)
                              .on_conflict_do_nothing(index_elements=["id"]))
    async with notes_db.session(write=False) as session:
        assert (await Notes(session).get(note_id)).text == "first"


async def test_insert_on_conflict_do_update_replaces_the_row_on_sqlite(notes_db):
    [note_id] = await add_notes(notes_db, "first")
    async with notes_db.session() as session:
        statement = Notes(session).insert(Note.__table__).values(id=note_id, text="second",
                                                                 version=1)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["id"], set_={"text": statement.excluded.text}))
    async with notes_db.session(write=False) as session:
        assert (await Notes(session).get(note_id)).text == "second"


async def test_update_rows_returns_how_many_rows_it_touched(notes_db):
    await add_notes(notes_db, "a", "b", "c")
    async with notes_db.session() as session:
        touched = await Notes(session).update_rows(
            update(Note).where(Note.text != "c").values(text="x"))
    assert touched == 2
    async with notes_db.session(write=False) as session:
        assert sorted((await session.scalars(select(Note.text))).all()) == ["c", "x", "x"]
