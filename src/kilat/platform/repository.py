"""The one base of every service's queries: a unit of work's session plus the helpers that
differ by database (dialect, upsert, row locks) and the ones every service needs (get, 404,
pages, bulk updates)."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.errors import not_found
from kilat.platform.schemas import PageParams

M = TypeVar("M")
T = TypeVar("T")


class Repository(Generic[M]):
    """Queries over one unit of work's session; a service subclasses it per aggregate and names
    the aggregate's mapped class as ``model`` (``class Users(Repository[User]): model = User``),
    which ``get`` and ``get_or_404`` read. ``load`` reads any mapped class by primary key."""

    model: ClassVar[type | None] = None
    entity: ClassVar[str] = "resource"  # the name a 404 gives (``not_found(entity, id)``)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    @property
    def is_postgres(self) -> bool:
        """PostgreSQL takes row locks and has PostGIS; SQLite serialises writers instead."""
        return self.dialect == "postgresql"

    def insert(self, table):
        """An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for this engine."""
        return (postgresql.insert if self.is_postgres else sqlite.insert)(table)

    async def load(self, model: type[T], entity_id: Any, *, for_update: bool = False) -> T | None:
        return await self.session.get(model, entity_id, with_for_update=for_update or None)

    async def load_or_404(self, model: type[T], entity_id: Any, entity: str, *,
                          for_update: bool = False) -> T:
        found = await self.load(model, entity_id, for_update=for_update)
        if found is None:
            raise not_found(entity, entity_id)
        return found

    async def get(self, entity_id: Any, *, for_update: bool = False) -> M | None:
        return await self.load(self.model, entity_id, for_update=for_update)

    async def get_or_404(self, entity_id: Any, *, for_update: bool = False) -> M:
        found = await self.get(entity_id, for_update=for_update)
        if found is None:
            raise not_found(self.entity, entity_id)
        return found

    async def paginate(self, query: Select, paging: PageParams | None = None, *,
                   offset: int | None = None, limit: int | None = None) -> tuple[list[Any], int]:
        """One page of ``query``'s rows (ORM entities or rows) and the total without paging."""
        if paging is not None:
            offset, limit = paging.offset, paging.limit
        total = await self.session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery()))
        rows = await self.session.scalars(query.offset(offset or 0).limit(limit))
        return list(rows), total or 0

    async def update_rows(self, statement) -> int:
        """Run a bulk UPDATE/DELETE without syncing the session; returns the rows it touched."""
        result = await self.session.execute(
            statement.execution_options(synchronize_session=False))
        return result.rowcount
