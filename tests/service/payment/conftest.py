import pytest

from tests.service.payment.support import payment_world
from tests.support.harness import embedded_infra

UNREACHABLE = {"booking": "http://127.0.0.1:1"}


@pytest.fixture
async def world(tmp_path):
    """The payment service on SQLite and the in-process bus (see ``payment_world``)."""
    async with embedded_infra(tmp_path, service_urls=UNREACHABLE) as infra, \
            payment_world(infra) as world:
        yield world
