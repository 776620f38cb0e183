"""Service registry: each service package exposes ``descriptor`` (a ServiceDescriptor).

A new service is one more name here (in start-up order) plus its port in
``kilat.platform.settings.SERVICE_PORTS``; ``kilat up``, ``kilat serve``, ``kilat migrate``, the
supervisor and the deployment files all read this list.
"""

from __future__ import annotations

import importlib

from kilat.platform.runtime import ServiceDescriptor

SERVICES: list[str] = [
    "identity", "booking", "payment", "runner", "tracking", "notification", "review",
    "rides", "parcels", "rail",
]


def load_descriptor(name: str) -> ServiceDescriptor:
    if name not in SERVICES:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    return importlib.import_module(f"kilat.services.{name}").descriptor
