"""Structured logs: JSON lines in production, readable lines in a terminal."""

from __future__ import annotations

import logging
import sys

import structlog


UNCOMPLETED_HANDSHAKE = "ASGI callable returned without completing handshake."


class DeniedHandshakeFilter(logging.Filter):
    """uvicorn's sans-I/O and wsproto WebSocket servers log an ERROR after every handshake the app
    refused with an HTTP response (the ASGI denial extension), although the client got that
    response: a refused stranger is not a server error. Our apps never return without accepting
    or denying, so the line carries nothing for us."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != UNCOMPLETED_HANDSHAKE


_DENIED = DeniedHandshakeFilter()


def quiet_denied_handshakes() -> None:
    """Install the filter on uvicorn's error logger (idempotent; survives its dictConfig)."""
    logger = logging.getLogger("uvicorn.error")
    if _DENIED not in logger.filters:
        logger.addFilter(_DENIED)


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    quiet_denied_handshakes()
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
