import pytest

from tests.support.harness import embedded_infra


@pytest.fixture
async def infra(tmp_path):
    """Embedded infrastructure (in-process bus, fresh key pair) in a temporary data dir."""
    async with embedded_infra(tmp_path) as infra:
        yield infra
