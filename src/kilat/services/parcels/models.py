"""Parcels tables."""

from __future__ import annotations

from kilat.platform.models import service_base

Base = service_base("parcels")
metadata = Base.metadata
