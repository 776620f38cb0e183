"""Domain errors carry their HTTP status; one handler renders them into the envelope."""

from __future__ import annotations


class KilatError(Exception):
    status_code = 500
    default_error = "internal server error"

    def __init__(self, error: str | None = None, detail: str = "") -> None:
        self.error = error or self.default_error
        self.detail = detail
        super().__init__(self.error)


class BadRequest(KilatError):
    status_code = 400
    default_error = "bad request"


class Unauthorized(KilatError):
    status_code = 401
    default_error = "unauthorized"


class Forbidden(KilatError):
    status_code = 403
    default_error = "insufficient permissions"


class NotFound(KilatError):
    status_code = 404
    default_error = "not found"


class Conflict(KilatError):
    status_code = 409
    default_error = "conflict"


class PayloadTooLarge(KilatError):
    status_code = 413
    default_error = "payload too large"


class Unprocessable(KilatError):
    status_code = 422
    default_error = "unprocessable"


class TooManyRequests(KilatError):
    status_code = 429
    default_error = "rate limit exceeded"


class ServiceUnavailable(KilatError):
    status_code = 503
    default_error = "service unavailable"
    retry_after = 1  # seconds, sent as Retry-After


def not_found(entity: str, entity_id: object) -> NotFound:
    return NotFound(f"{entity} not found", f"{entity} with id '{entity_id}' was not found")
