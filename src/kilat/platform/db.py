"""Async engines, sessions committed at the boundary, database creation and migrations."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, make_url, pool, text
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from kilat.platform.errors import ServiceUnavailable
from kilat.platform.migrations import script_heads

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A read runs inline and must never wait long for a lock with the event loop blocked: WAL readers
# do not take one, and a write attempted in a read unit of work fails fast instead of stalling.
SQLITE_INLINE_BUSY_TIMEOUT_MS = 100


_after_commit_tasks: set[asyncio.Future] = set()


def after_commit(session: AsyncSession, callback: Callable[[], object]) -> None:
    """Run ``callback`` on the event loop once ``session``'s transaction has committed, never on
    rollback: wake a worker, tell live sockets, forget a cache entry. A callback that returns an
    awaitable runs as a task the kernel keeps until it is done."""
    loop = asyncio.get_running_loop()

    def run() -> None:
        result = callback()
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            _after_commit_tasks.add(task)
            task.add_done_callback(_after_commit_tasks.discard)

    event.listen(session.sync_session, "after_commit", lambda _s: loop.call_soon(run), once=True)


class _InlineCursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """Rows stay readable after the statement, as SQLAlchemy's asyncio layer expects."""


class _InlineConnection(sqlite3.Connection):
    def cursor(self, factory=_InlineCursor):
        return super().cursor(factory)


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """The standard ``sqlite3`` driver called directly on the event loop's thread.

    Reading a few rows from a WAL database takes microseconds; aiosqlite's worker-thread hand-off
    for each DBAPI call (checkout, BEGIN, cursor, execute, fetch, COMMIT) costs far more CPU.
    """

    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url):
        return pool.AsyncAdaptedQueuePool

    def do_begin(self, dbapi_connection) -> None:
        # reads only: a deferred BEGIN straight on the driver, not through statement execution
        dbapi_connection.execute("BEGIN")


registry.register("sqlite.kilat_inline", __name__, "InlineSQLiteDialect")


class Database:
    """One service's database: engine, session factories and health check.

    On SQLite, write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue on the
    busy timeout instead of failing when a read transaction cannot be upgraded; reads stay deferred
    and run on ``read_engine``, the ``sqlite3`` driver called inline (``InlineSQLiteDialect``).
    """

    def __init__(self, url: str, *, service: str = "kilat", pool_size: int = 10,
                 max_overflow: int = 2) -> None:
        self.url = url
        self.service = service
        self.outbox_listeners: list = []
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            Path(make_url(url).database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: AsyncEngine = create_async_engine(url, pool_size=pool_size, max_overflow=20)
            _configure_sqlite(self.engine, SQLITE_BUSY_TIMEOUT_MS)
            _begin_explicitly(self.engine)
            self.read_engine = create_async_engine(
                make_url(url).set(drivername="sqlite+kilat_inline"), pool_size=pool_size,
                max_overflow=20,
                connect_args={"check_same_thread": False, "factory": _InlineConnection})
            _configure_sqlite(self.read_engine, SQLITE_INLINE_BUSY_TIMEOUT_MS)
        else:
            self.engine = create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
                pool_timeout=30,
                connect_args={"timeout": 5, "command_timeout": 30},
            )
            _refuse_when_unreachable(self.engine)
            self.read_engine = self.engine
        self._write_queue = asyncio.Lock() if self.is_sqlite else None
        info = {"service": service}
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False, info=info)
        self._writer = async_sessionmaker(
            self.engine.execution_options(kilat_write=True), expire_on_commit=False, info=info
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends normally, rolled back on error."""
        if write and self._write_queue is not None:
            async with self._queued_write():
                async with self._unit_of_work(self._writer) as session:
                    yield session
        else:
            async with self._unit_of_work(self._writer if write else self._reader) as session:
                yield session

    @asynccontextmanager
    async def _queued_write(self) -> AsyncIterator[None]:
        """SQLite has one writer: queue this process's writers here rather than in SQLite's
        busy handler, which polls with sleeps of up to 100 ms."""
        try:
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await self._write_queue.acquire()
        except TimeoutError as exc:
            raise ServiceUnavailable("database busy", "too many concurrent writes") from exc
        try:
            yield
        finally:
            self._write_queue.release()

    @asynccontextmanager
    async def _unit_of_work(self, factory) -> AsyncIterator[AsyncSession]:
        async with factory() as session:
            try:
                yield session
                await session.commit()
                if session.info.pop("outbox_dirty", False):
                    for listener in self.outbox_listeners:
                        listener()
            except (OperationalError, DBAPIError) as exc:
                await session.rollback()
                if exc.connection_invalidated or _is_connection_error(exc):
                    raise ServiceUnavailable("database unavailable", str(exc.orig)) from exc
                raise
            except BaseException:
                # shielded: a cancelled task must still release SQLite's write lock
                await asyncio.shield(session.rollback())
                raise

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    """Every new connection: WAL, the busy timeout, foreign keys, transactions begun by us."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _begin_explicitly(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get("kilat_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _refuse_when_unreachable(engine: AsyncEngine) -> None:
    """A server that cannot be reached (refused, timed out) makes a request fail with 503 at once;
    asyncpg raises these as plain OSError, which would otherwise surface as a 500."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect, _record, cargs, cparams):
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as exc:
            raise ServiceUnavailable("database unavailable", str(exc)) from exc


def _is_connection_error(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return any(
        needle in message
        for needle in ("connection refused", "connection was closed", "cannot connect", "terminating",
                       "the database system is", "too many clients", "too many connections",
                       "remaining connection slots")
    )


async def ensure_database(url: str, *, extensions: tuple[str, ...] = ()) -> None:
    """Create the PostgreSQL database (and extensions) when missing; SQLite creates itself."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    import asyncpg

    admin = parsed.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database)
        if not exists:
            # another instance starting at the same time may win the race; that is fine
            with suppress(asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()
    if extensions:
        target = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(False))
        try:
            for name in extensions:
                with suppress(asyncpg.UniqueViolationError, asyncpg.DuplicateObjectError):
                    await target.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
        finally:
            await target.close()


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import asyncpg

    admin = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await conn.close()


def alembic_config(migrations_dir: Path) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    return config


async def migrate(database: Database, migrations_dir: Path, revision: str = "head") -> None:
    """Run a service's Alembic migrations to ``revision`` on its own connection.

    A database already at the head revision (every restart) is left alone without loading Alembic.
    """
    if revision == "head" and await at_head(database, migrations_dir):
        return
    from alembic import command

    config = alembic_config(migrations_dir)

    def _upgrade(sync_conn) -> None:
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    async with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # instances of a service starting together migrate one after the other
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('kilat:migrate'))"))
        await conn.run_sync(_upgrade)


async def at_head(database: Database, migrations_dir: Path) -> bool:
    """Whether ``alembic_version`` names exactly the head revisions of ``migrations_dir``.

    A migration in progress elsewhere has not committed its new version yet, so a starter that
    reads an older one takes the migration path and waits for the advisory lock there.
    """
    heads = script_heads(migrations_dir)
    if heads is None:
        return False
    try:
        async with database.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            applied = {row[0] for row in rows}
    except DBAPIError:  # no version table yet: a new database
        return False
    return applied == heads
