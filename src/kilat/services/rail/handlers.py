"""Event consumers of the rail service."""

from __future__ import annotations

from kilat.platform.runtime import ServiceRuntime


def handlers(runtime: ServiceRuntime) -> dict:
    return {}
