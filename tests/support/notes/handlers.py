from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from tests.support.notes.models import NoteEcho

ATTEMPTS: dict[str, int] = {}


def handlers(runtime) -> dict:
    async def on_note_created(session: AsyncSession, event: Event) -> None:
        note_id = event.data["note_id"]
        ATTEMPTS[note_id] = ATTEMPTS.get(note_id, 0) + 1
        if ATTEMPTS[note_id] <= event.data.get("fail_times", 0):
            raise RuntimeError(f"planned failure {ATTEMPTS[note_id]}")
        session.add(NoteEcho(note_id=note_id))

    return {"note.created": on_note_created}
