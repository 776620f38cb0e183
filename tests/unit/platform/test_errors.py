import json

import pytest

from kilat.platform.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    not_found,
)
from kilat.platform.http import error_response


@pytest.mark.parametrize(("error", "status"), [(BadRequest, 400), (Unauthorized, 401),
                                                (Forbidden, 403), (NotFound, 404), (Conflict, 409),
                                                (Unprocessable, 422), (TooManyRequests, 429)])
def test_domain_errors_carry_their_status(error, status):
    assert error().status_code == status


def test_not_found_names_the_entity_and_id():
    error = not_found("Booking", "abc")
    assert (error.error, error.detail) == ("Booking not found", "Booking with id 'abc' was not found")


def test_error_response_is_the_kilat_envelope():
    response = error_response(409, "conflict", "why")
    assert response.status_code == 409
    assert json.loads(response.body) == {"success": False, "error": "conflict", "detail": "why"}
