"""Idempotency-Key for POST routes: a retried request gets the stored response, not a second effect.

Use: add ``idempotency_table(metadata)`` to a service's models, ``create_idempotency_table(
op.get_bind())`` to a migration, and put ``@idempotent`` under the route decorator::

    @router.post("/things", status_code=201, response_model=Envelope[Thing],
                 responses=error_responses(400, 409))
    @idempotent
    async def create_thing(body: ThingCreate, session: Session, user: CurrentUser) -> dict: ...

Rules: keys are scoped to the caller (the access token's user, else one anonymous scope) and kept
for ``ttl`` (24 h by default). The same key with the same method, path and JSON body returns the
stored status and body with ``Idempotent-Replayed: true``; with a different request it is a 409.
A request without the header runs as usual.

Two modes, chosen from the route's signature:
- a route that takes ``session: Session`` stores the response in that transaction, so the
  response is kept exactly when the change commits; a concurrent twin gets a 409.
- a route that runs its own units of work (a saga calling an outside system) claims the key in its
  own transaction first; a twin arriving meanwhile gets a 409, a claim left by a crashed process
  is taken over after ``CLAIM_TIMEOUT``. Domain errors (4xx) are stored too, because a saga may
  have recorded its outcome before failing; a 5xx or crash frees the key for a retry.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import JSON, Column, Index, Integer, MetaData, String, Table, delete, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.errors import Conflict, KilatError
from kilat.platform.http import Session
from kilat.platform.models import UTCDateTime, utcnow

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
DEFAULT_TTL = timedelta(hours=24)
CLAIM_TIMEOUT = timedelta(seconds=60)
TABLE_NAME = "idempotency_keys"

KEY_REUSED = "Idempotency-Key was already used for a different request"
IN_PROGRESS = "a request with this Idempotency-Key is already in progress"

_REQUEST = "_idempotency_request"
_DONE = "done"
_CLAIMED = "in_progress"


def idempotency_table(metadata: MetaData) -> Table:
    if TABLE_NAME in metadata.tables:
        return metadata.tables[TABLE_NAME]
    return Table(
        TABLE_NAME,
        metadata,
        Column("scope", String(64), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status", String(16), nullable=False),
        Column("response_status", Integer, nullable=True),
        Column("response_body", JSON, nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("expires_at", UTCDateTime(), nullable=False),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )


_KEYS = idempotency_table(MetaData())


def create_idempotency_table(bind) -> None:
    """Migration step: create the idempotency table on ``op.get_bind()``."""
    _KEYS.create(bind)


def drop_idempotency_table(bind) -> None:
    _KEYS.drop(bind)


async def purge_expired_keys(session: AsyncSession, now: datetime | None = None) -> int:
    result = await session.execute(delete(_KEYS).where(_KEYS.c.expires_at <= (now or utcnow())))
    return result.rowcount or 0


KeyHeader = Annotated[
    str | None,
    Header(alias=HEADER, min_length=1, max_length=255,
           description="Repeat a request safely: the same key returns the first response (24 h)."),
]


@dataclass(frozen=True)
class _Call:
    scope: str
    key: str
    fingerprint: str
    status_code: int
    ttl: timedelta

    @property
    def where(self):
        return (_KEYS.c.scope == self.scope) & (_KEYS.c.key == self.key)


def idempotent(endpoint: Callable | None = None, *, ttl: timedelta = DEFAULT_TTL):
    """Decorator for a POST route; see the module docstring."""

    def decorate(fn: Callable[..., Awaitable[Any]]):
        signature, session_param, request_param = _signature_with_key(fn)

        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):
            request: Request = (kwargs.pop(_REQUEST) if request_param == _REQUEST
                                else kwargs[request_param])
            key: str | None = kwargs.pop("_idempotency_key")
            run = functools.partial(fn, *args, **kwargs)
            if key is None:
                return await run()
            call = await _describe(request, key, ttl)
            if session_param is not None:
                return await _in_transaction(kwargs[session_param], call, run)
            return await _with_claim(request.app.state.runtime.database, call, run)

        wrapper.__signature__ = signature
        return wrapper

    return decorate(endpoint) if endpoint is not None else decorate


def _signature_with_key(fn) -> tuple[inspect.Signature, str | None, str]:
    """The route's parameters plus the key header (and the request, which FastAPI passes once)."""
    hints = typing.get_type_hints(fn, include_extras=True)
    params = [p.replace(annotation=hints.get(p.name, p.annotation))
              for p in inspect.signature(fn).parameters.values()]
    session_param = next((p.name for p in params if p.annotation == Session), None)
    request_param = next((p.name for p in params if p.annotation is Request), None)
    if request_param is None:
        request_param = _REQUEST
        params.append(inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY,
                                        annotation=Request))
    params.append(inspect.Parameter("_idempotency_key", inspect.Parameter.KEYWORD_ONLY,
                                    annotation=KeyHeader, default=None))
    signature = inspect.Signature(params, return_annotation=hints.get("return", Any))
    return signature, session_param, request_param


async def _describe(request: Request, key: str, ttl: timedelta) -> _Call:
    body = await request.body()
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    parts = [request.method.encode(), request.url.path.encode(), request.url.query.encode(),
             canonical]
    fingerprint = hashlib.sha256(b"\n".join(parts)).hexdigest()
    status = getattr(request.scope.get("route"), "status_code", None) or 200
    return _Call(_scope_of(request), key, fingerprint, status, ttl)


def _scope_of(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            return str(request.app.state.runtime.verifier.principal(token).user_id)
        except KilatError:
            pass
    return "anonymous"


async def _find(session: AsyncSession, call: _Call):
    """The live row for this key, or None; a key reused for another request is a 409."""
    row = (await session.execute(select(_KEYS).where(call.where))).first()
    if row is None:
        return None
    if row.expires_at <= utcnow():
        await session.execute(delete(_KEYS).where(call.where))
        return None
    if row.fingerprint != call.fingerprint:
        raise Conflict(KEY_REUSED, f"key '{call.key}'")
    return row


def _replay(row) -> JSONResponse:
    return JSONResponse(row.response_body, status_code=row.response_status,
                        headers={REPLAYED_HEADER: "true"})


def _render(result: Any, status_code: int) -> tuple[int, Any, Response]:
    if isinstance(result, Response):
        body = json.loads(result.body) if getattr(result, "body", b"") else None
        return result.status_code, body, result
    body = jsonable_encoder(result)
    return status_code, body, JSONResponse(body, status_code=status_code)


def _row(call: _Call, status: str, response_status: int | None = None, body: Any = None) -> dict:
    now = utcnow()
    return {"scope": call.scope, "key": call.key, "fingerprint": call.fingerprint,
            "status": status, "response_status": response_status, "response_body": body,
            "created_at": now, "expires_at": now + call.ttl}


async def _in_transaction(session: AsyncSession, call: _Call, run) -> Response:
    row = await _find(session, call)
    if row is not None:
        return _replay(row)
    status, body, response = _render(await run(), call.status_code)
    try:
        await session.execute(insert(_KEYS).values(**_row(call, _DONE, status, body)))
    except IntegrityError as exc:
        raise Conflict(IN_PROGRESS) from exc
    return response


async def _with_claim(database, call: _Call, run) -> Response:
    replay = await _claim(database, call)
    if replay is not None:
        return replay
    try:
        result = await run()
    except KilatError as exc:
        if exc.status_code >= 500:
            await _release(database, call)
        else:
            error = {"success": False, "error": exc.error, "detail": exc.detail}
            await _store(database, call, exc.status_code, error)
        raise
    except BaseException:
        await _release(database, call)
        raise
    status, body, response = _render(result, call.status_code)
    await _store(database, call, status, body)
    return response


async def _claim(database, call: _Call) -> Response | None:
    try:
        async with database.session() as session:
            row = await _find(session, call)
            if row is not None and row.status == _DONE:
                return _replay(row)
            if row is not None and row.created_at + CLAIM_TIMEOUT > utcnow():
                raise Conflict(IN_PROGRESS)
            if row is not None:
                await session.execute(delete(_KEYS).where(call.where))
            await session.execute(insert(_KEYS).values(**_row(call, _CLAIMED)))
    except IntegrityError as exc:
        raise Conflict(IN_PROGRESS) from exc
    return None


async def _store(database, call: _Call, status: int, body: Any) -> None:
    async with database.session() as session:
        await session.execute(
            sql_update(_KEYS).where(call.where)
            .values(status=_DONE, response_status=status, response_body=body)
        )


async def _release(database, call: _Call) -> None:
    async with database.session() as session:
        await session.execute(delete(_KEYS).where(call.where & (_KEYS.c.status == _CLAIMED)))
