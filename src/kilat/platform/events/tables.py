"""Outbox, inbox and dead-letter tables, added to each service's own database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, Column, Index, Integer, MetaData, String, Table, Text, Uuid

from kilat.platform.models import UTCDateTime


@dataclass(frozen=True)
class EventTables:
    outbox: Table
    inbox: Table
    dead_letters: Table

    @property
    def all(self) -> tuple[Table, ...]:
        return (self.outbox, self.inbox, self.dead_letters)


def event_tables(metadata: MetaData) -> EventTables:
    if "event_outbox" in metadata.tables:
        t = metadata.tables
        return EventTables(t["event_outbox"], t["event_inbox"], t["event_dead_letters"])
    outbox = Table(
        "event_outbox",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("type", String(120), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime(), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        Index("ix_event_outbox_pending", "published_at", "created_at"),
    )
    inbox = Table(
        "event_inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("consumer", String(120), primary_key=True),
        Column("type", String(120), nullable=False),
        Column("handled_at", UTCDateTime(), nullable=False),
    )
    dead_letters = Table(
        "event_dead_letters",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("event_id", Uuid, nullable=False, index=True),
        Column("consumer", String(120), nullable=False),
        Column("type", String(120), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("replayed_at", UTCDateTime(), nullable=True),
    )
    return EventTables(outbox, inbox, dead_letters)


def create_event_tables(bind) -> None:
    """Migration step: create the event tables on ``op.get_bind()``."""
    for table in event_tables(MetaData()).all:
        table.create(bind)


def drop_event_tables(bind) -> None:
    for table in reversed(event_tables(MetaData()).all):
        table.drop(bind)
