import pytest

from tests.service.tracking.support import TEST_SETTINGS


@pytest.fixture(autouse=True)
def tracking_settings(monkeypatch):
    for name, value in TEST_SETTINGS.items():
        monkeypatch.setenv(name, value)
