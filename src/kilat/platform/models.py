"""Model base classes shared by every service (each service keeps its own metadata)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer, MetaData, String, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every engine (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


TYPE_MAP = {datetime: UTCDateTime(), dict: JSON, list: JSON, uuid.UUID: Uuid}


class Model(DeclarativeBase):
    """Abstract root; each service subclasses it once, abstract, with its own ``metadata``.

    That service base gets its own registry too, so services in one process (embedded profile)
    never share class-name lookups.
    """

    __abstract__ = True
    type_annotation_map = TYPE_MAP

    def __init_subclass__(cls, **kw) -> None:
        if cls.__dict__.get("__abstract__") and "metadata" in cls.__dict__:
            cls.registry = cls._sa_registry = registry(
                metadata=cls.metadata, type_annotation_map=TYPE_MAP
            )
        super().__init_subclass__(**kw)


def service_base(service: str) -> type[Model]:
    """A service's declarative base: its own metadata and registry, with the kernel's event
    tables (outbox, inbox, dead letters) already in its metadata: ``Base = service_base("review")``
    at the top of a service's models.py; ``Base.metadata`` is what its migrations and runtime
    use."""
    from kilat.platform.events.tables import event_tables

    metadata = new_metadata()
    event_tables(metadata)
    namespace = {"__abstract__": True, "metadata": metadata,
                 "__module__": f"kilat.services.{service}.models"}
    return type(f"{service.title()}Base", (Model,), namespace)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class VersionMixin:
    """Optimistic lock: a stale update raises StaleDataError, rendered as 409."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version}


class Entity(IdMixin, TimestampMixin):
    """UUID primary key plus timestamps."""


__all__ = [
    "Entity",
    "IdMixin",
    "JSON",
    "Model",
    "String",
    "TimestampMixin",
    "UTCDateTime",
    "VersionMixin",
    "func",
    "new_metadata",
    "utcnow",
]
