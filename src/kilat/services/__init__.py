"""Service registry: each service package exposes ``descriptor`` (a ServiceDescriptor)."""

from __future__ import annotations

import importlib
import importlib.util

from kilat.platform.runtime import ServiceDescriptor

# Every Kilat service in start-up order. A service whose package is not present yet is skipped,
# so the platform runs while services are still being built.
ALL_SERVICES: list[str] = [
    "identity", "booking", "payment", "runner", "tracking", "notification", "review",
]


def _present(name: str) -> bool:
    return importlib.util.find_spec(f"kilat.services.{name}") is not None


SERVICES: list[str] = [name for name in ALL_SERVICES if _present(name)]


def load_descriptor(name: str) -> ServiceDescriptor:
    if name not in SERVICES:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    return importlib.import_module(f"kilat.services.{name}").descriptor
