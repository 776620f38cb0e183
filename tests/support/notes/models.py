from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.events.tables import event_tables
from kilat.platform.models import Entity, Model, VersionMixin, new_metadata


class Base(Model):
    __abstract__ = True
    metadata = new_metadata()


metadata = Base.metadata
event_tables(metadata)


class Note(Base, Entity, VersionMixin):
    __tablename__ = "notes"
    text: Mapped[str] = mapped_column(String(200))


class NoteEcho(Base, Entity):
    __tablename__ = "note_echoes"
    note_id: Mapped[str] = mapped_column(String(36))
    times: Mapped[int] = mapped_column(Integer, default=1)
