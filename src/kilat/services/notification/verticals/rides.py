"""Notifications of the rides vertical."""

from __future__ import annotations

from kilat.services.notification.notice import Rule

RULES: dict[str, Rule] = {}
TEMPLATES: dict[str, dict[str, dict[str, str]]] = {}
FAMILIES: tuple[str, ...] = ("rides.*",)
