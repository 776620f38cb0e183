"""Time partitions of the append-only streams (PostgreSQL only; SQLite has plain tables).

Each stream is ``PARTITION BY RANGE`` on its time column, keyed by (id, time). Partitions are
made ahead of time by the maintenance job (daily for telemetry, monthly for the others); a
``_default`` partition catches a row outside every partition, so nothing is ever refused.
Telemetry partitions older than the retention are detached and dropped whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import structlog
from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Stream:
    table: str
    key: str
    period: str  # day | month


STREAMS = (
    Stream("courier_location_events", "recorded_at", "day"),
    Stream("shipment_events", "occurred_at", "month"),
    Stream("webhook_events", "created_at", "month"),
    Stream("ad_impressions", "occurred_at", "month"),
)
SUFFIX = re.compile(r"_p(\d{6}|\d{8})$")


def stream_table(name: str, key: str, *elements) -> None:
    """Migration step: create a stream table, range-partitioned on ``key`` on PostgreSQL."""
    op.create_table(name, *elements, postgresql_partition_by=f"RANGE ({key})")


def _start(period: str, day: date) -> date:
    return day if period == "day" else day.replace(day=1)


def _next(period: str, start: date) -> date:
    if period == "day":
        return start + timedelta(days=1)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def partition_name(stream: Stream, start: date) -> str:
    return f"{stream.table}_p{start:%Y%m%d}" if stream.period == "day" \
        else f"{stream.table}_p{start:%Y%m}"


def _stamp(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


def create_default_partitions(connection: Connection) -> None:
    for stream in STREAMS:
        connection.execute(text(f"CREATE TABLE IF NOT EXISTS {stream.table}_default "
                                f"PARTITION OF {stream.table} DEFAULT"))


def ensure_partitions(connection: Connection, today: date, days_ahead: int) -> list[str]:
    """Create the partitions from ``today``'s period through ``days_ahead`` days later; returns
    the ones it created. A range whose rows already sit in the default partition is skipped."""
    created: list[str] = []
    for stream in STREAMS:
        start = _start(stream.period, today)
        last = today + timedelta(days=days_ahead)
        while start <= last:
            end = _next(stream.period, start)
            name = partition_name(stream, start)
            if _create(connection, stream, name, start, end):
                created.append(name)
            start = end
    return created


def _create(connection: Connection, stream: Stream, name: str, start: date, end: date) -> bool:
    if name in existing_partitions(connection, stream.table):
        return False
    try:
        with connection.begin_nested():
            connection.execute(text(
                f"CREATE TABLE {name} PARTITION OF {stream.table} "
                f"FOR VALUES FROM ('{_stamp(start)}') TO ('{_stamp(end)}')"))
    except DBAPIError as exc:
        log.warning("partition not created", partition=name, error=str(exc)[:200])
        return False
    return True


def existing_partitions(connection: Connection, table: str) -> list[str]:
    rows = connection.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table ORDER BY c.relname"),
        {"table": table})
    return [row[0] for row in rows]


def drop_expired(connection: Connection, table: str, before: date) -> list[str]:
    """Drop ``table``'s dated partitions that end on or before ``before`` (retention)."""
    stream = next(s for s in STREAMS if s.table == table)
    dropped = []
    for name in existing_partitions(connection, table):
        match = SUFFIX.search(name)
        if match is None:
            continue
        raw = match.group(1)
        start = datetime.strptime(raw, "%Y%m%d" if len(raw) == 8 else "%Y%m").date()
        if _next(stream.period, start) <= before:
            connection.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
            connection.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    return dropped
