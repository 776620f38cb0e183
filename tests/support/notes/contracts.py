import uuid

from kilat.contracts import Contract


class NoteCreated(Contract):
    """The notes service's one event; ``fail_times`` plans handler failures."""

    TYPE = "note.created"

    note_id: uuid.UUID
    fail_times: int = 0
