"""Read your own writes across services: a step that needs another service's fact does not fail
because the event carrying it is still in flight.

When the local read model does not yet satisfy the step's precondition, the fact is read once,
synchronously, from the owning service with the caller's authority, upserted into the read model
(the upsert MUST keep the fresher of the stored and the fetched fact, so the later event converges
with it), and the step decides on the result.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import structlog

from kilat.platform.errors import Forbidden, ServiceUnavailable, not_found

log = structlog.get_logger(__name__)

T = TypeVar("T")
Fetch = Callable[[], Awaitable[dict[str, Any]]]
PATIENCE_POLL_SECONDS = 0.1


async def read_through(
    lookup: Callable[[], Awaitable[T | None]],
    satisfied: Callable[[T], bool],
    fetch: Fetch,
    upsert: Callable[[dict[str, Any]], Awaitable[T]],
    *,
    patience: float = 0.0,
) -> T:
    """The local fact when it satisfies the precondition, else the owner's, upserted and returned
    (the fact that satisfies the precondition, or the freshest one, for the caller to refuse).

    ``fetch`` raises ``NotFound``/``Forbidden`` as the owner answers and ``ServiceUnavailable``
    when it cannot be reached; then, with ``patience`` seconds, the local read model is re-read
    until its event satisfies the precondition, and the 503 is raised only after that.
    """
    fact = await lookup()
    if fact is not None and satisfied(fact):
        return fact
    try:
        data = await fetch()
    except ServiceUnavailable:
        fact = await _await_event(lookup, satisfied, patience)
        if fact is None:
            raise
        return fact
    return await upsert(data)


async def await_fact(lookup: Callable[[], Awaitable[T | None]], satisfied: Callable[[T], bool],
                     seconds: float) -> T | None:
    """The local fact once it satisfies ``satisfied``, re-read for up to ``seconds``; else None.

    For a request whose outcome arrives by event (a vertical's charge answered by the payment
    service): answer at once when the event came quickly, or 202 and let the client poll.
    ``lookup`` must open its own short read each time (not hold a transaction open)."""
    fact = await lookup()
    if fact is not None and satisfied(fact):
        return fact
    return await _await_event(lookup, satisfied, seconds)


async def _await_event(lookup: Callable[[], Awaitable[T | None]], satisfied: Callable[[T], bool],
                       seconds: float) -> T | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        await asyncio.sleep(min(left, PATIENCE_POLL_SECONDS))
        fact = await lookup()
        if fact is not None and satisfied(fact):
            return fact
    return None


def from_owner(infra: Any, service: str, path: str, *, authorization: str | None, entity: str,
               entity_id: uuid.UUID,
               client: Callable[[], Awaitable[httpx.AsyncClient]] | None = None) -> Fetch:
    """A ``fetch`` of ``GET path`` at ``service`` forwarding the caller's ``Authorization``.

    ``client`` gives a kept-alive client; without it a client from
    ``infra.service_client(service)`` is opened for this read and closed after it.
    """

    async def fetch() -> dict[str, Any]:
        headers = {"Authorization": authorization} if authorization else {}
        try:
            if client is None:
                async with infra.service_client(service) as fresh:
                    response = await fresh.get(path, headers=headers)
            else:
                response = await (await client()).get(path, headers=headers)
        except httpx.HTTPError as exc:
            log.info("owning service unreachable", service=service, path=path, error=str(exc))
            raise _unknown(service, entity) from exc
        return _answer(response, service, entity, entity_id)

    return fetch


def _answer(response: httpx.Response, service: str, entity: str,
            entity_id: uuid.UUID) -> dict[str, Any]:
    if response.status_code == 404:
        raise not_found(entity, entity_id)
    if response.status_code == 403:
        raise Forbidden(f"not your {entity.lower()}")
    if response.status_code != 200:
        log.info("owning service refused a read", service=service, status=response.status_code)
        raise _unknown(service, entity)
    return response.json()["data"]


def _unknown(service: str, entity: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"{entity.lower()} is not known yet",
                              f"the {service} service could not be reached; retry shortly")
