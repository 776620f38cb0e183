import pytest

from tests.service.tracking.support import TEST_SETTINGS
from tests.support.bookings import stand_in_booking_service


@pytest.fixture(autouse=True)
def tracking_settings(monkeypatch):
    for name, value in TEST_SETTINGS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def booking_service(request):
    """The booking service a socket reads a booking from while its event is on the way."""
    if "infra" in request.fixturenames:
        return stand_in_booking_service(request.getfixturevalue("infra"))
    return None
