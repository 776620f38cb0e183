import uuid

from fastapi import APIRouter
from sqlalchemy import func, select

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.errors import not_found
from kilat.platform.events import record_event
from kilat.platform.http import Session
from kilat.platform.schemas import Envelope, Page, Paging, Schema, error_responses, ok, page_of
from tests.support.notes.contracts import NoteCreated
from tests.support.notes.models import Note, NoteEcho


class NoteIn(Schema):
    text: str
    fail_times: int = 0


class NoteOut(Schema):
    id: uuid.UUID
    text: str
    version: int


class NoteUpdate(Schema):
    text: str
    version: int


router = APIRouter(prefix="/api/v1/notes", tags=["notes"])


@router.post("", status_code=201, response_model=Envelope[NoteOut], responses=error_responses(400, 401))
async def create_note(body: NoteIn, session: Session, user: CurrentUser) -> dict:
    note = Note(text=body.text)
    session.add(note)
    await session.flush()
    await record_event(session, NoteCreated(note_id=note.id, fail_times=body.fail_times))
    return ok(NoteOut.model_validate(note))


@router.get("", response_model=Page[NoteOut])
async def list_notes(session: Session, paging: Paging, user: RequireRole("admin")) -> dict:
    total = await session.scalar(select(func.count()).select_from(Note))
    rows = (await session.scalars(select(Note).order_by(Note.created_at)
                                  .offset(paging.offset).limit(paging.limit))).all()
    return page_of([NoteOut.model_validate(n) for n in rows], total, paging)


@router.get("/{note_id}/echoes", response_model=Envelope[int])
async def echoes(note_id: uuid.UUID, session: Session) -> dict:
    times = await session.scalar(select(func.coalesce(func.sum(NoteEcho.times), 0))
                                 .where(NoteEcho.note_id == str(note_id)))
    return ok(times)


@router.put("/{note_id}", response_model=Envelope[NoteOut], responses=error_responses(404, 409))
async def update_note(note_id: uuid.UUID, body: NoteUpdate, session: Session) -> dict:
    note = await session.get(Note, note_id)
    if note is None:
        raise not_found("Note", note_id)
    if note.version != body.version:
        from kilat.platform.errors import Conflict
        raise Conflict("version mismatch")
    note.text = body.text
    await session.flush()
    return ok(NoteOut.model_validate(note))
