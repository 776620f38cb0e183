"""The read-through helper: local fact first, else one read from the owning service, upserted."""

import uuid

import httpx
import pytest

from kilat.platform.errors import Forbidden, NotFound, ServiceUnavailable
from kilat.platform.readthrough import from_owner, read_through


class ReadModel:
    """A one-row read model whose status the test sets, counting the owner's reads."""

    def __init__(self, status: str | None = None, answer: dict | Exception | None = None) -> None:
        self.status, self.answer, self.fetched = status, answer, 0

    async def lookup(self) -> str | None:
        return self.status

    async def fetch(self) -> dict:
        self.fetched += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def upsert(self, data: dict) -> str:
        self.status = data["status"]
        return self.status


def completed(status: str) -> bool:
    return status == "completed"


async def read(model: ReadModel, **options) -> str:
    return await read_through(model.lookup, completed, model.fetch, model.upsert, **options)


async def test_a_local_fact_that_satisfies_the_precondition_costs_no_read():
    model = ReadModel("completed")
    assert await read(model) == "completed" and model.fetched == 0


@pytest.mark.parametrize("local", [None, "delivered"])
async def test_a_missing_or_lagging_fact_is_read_from_the_owner_and_upserted(local):
    model = ReadModel(local, {"status": "completed"})
    assert await read(model) == "completed"
    assert model.status == "completed" and model.fetched == 1


async def test_the_freshest_fact_is_returned_when_even_the_owner_does_not_satisfy_it():
    model = ReadModel("in_progress", {"status": "delivered"})
    assert await read(model) == "delivered"


async def test_an_unreachable_owner_is_503_unless_the_event_arrives_within_the_patience():
    model = ReadModel(None, ServiceUnavailable())
    with pytest.raises(ServiceUnavailable):
        await read(model)
    with pytest.raises(ServiceUnavailable):
        await read(model, patience=0.15)

    lookups = []

    async def arriving() -> str | None:  # the event lands on the third look
        lookups.append(1)
        return "completed" if len(lookups) > 2 else None

    assert await read_through(arriving, completed, model.fetch, model.upsert,
                              patience=2) == "completed"


def owner_app(status_code: int, seen: list) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status_code, json={"success": status_code == 200,
                                                 "data": {"status": "completed"}})
    return httpx.MockTransport(answer)


class Infra:
    def __init__(self, transport: httpx.BaseTransport) -> None:
        self.transport = transport

    def service_client(self, name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, base_url=f"http://{name}")


def fetch_with(transport: httpx.BaseTransport, authorization: str | None = "Bearer caller"):
    return from_owner(Infra(transport), "booking", "/api/v1/bookings/1",
                      authorization=authorization, entity="Booking", entity_id=uuid.uuid4())


async def test_the_owner_is_read_with_the_callers_authority():
    seen: list[httpx.Request] = []
    assert await fetch_with(owner_app(200, seen))() == {"status": "completed"}
    assert seen[0].url.path == "/api/v1/bookings/1"
    assert seen[0].headers["authorization"] == "Bearer caller"


@pytest.mark.parametrize(("status_code", "error"), [
    (404, NotFound), (403, Forbidden), (500, ServiceUnavailable), (401, ServiceUnavailable)])
async def test_the_owners_refusals_become_the_same_errors(status_code, error):
    with pytest.raises(error):
        await fetch_with(owner_app(status_code, []))()


async def test_an_owner_that_cannot_be_reached_is_503():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ServiceUnavailable) as raised:
        await fetch_with(httpx.MockTransport(refuse))()
    assert raised.value.status_code == 503


async def test_a_kept_alive_client_is_used_when_given():
    seen: list[httpx.Request] = []
    shared = httpx.AsyncClient(transport=owner_app(200, seen), base_url="http://booking")

    async def client() -> httpx.AsyncClient:
        return shared

    fetch = from_owner(None, "booking", "/api/v1/bookings/1", authorization=None,
                       entity="Booking", entity_id=uuid.uuid4(), client=client)
    assert await fetch() == {"status": "completed"} and "authorization" not in seen[0].headers
    assert not shared.is_closed
    await shared.aclose()
