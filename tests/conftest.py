from pathlib import Path

import pytest

from tests.support.harness import embedded_infra

INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items) -> None:
    """Every test under tests/integration/ carries the ``integration`` marker, so
    ``-m "not integration"`` selects what runs without servers."""
    for item in items:
        if INTEGRATION in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
async def infra(tmp_path):
    """Embedded infrastructure (in-process bus, fresh key pair) in a temporary data dir."""
    async with embedded_infra(tmp_path) as infra:
        yield infra
