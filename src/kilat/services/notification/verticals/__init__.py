"""Who hears about the verticals' events: one module per vertical, each with its ``RULES`` (event
type -> rule, as in ``notification.rules``), its ``TEMPLATES`` (as in ``notification.templates``,
``en`` and ``ms`` at least) and its ``FAMILIES`` (the event patterns the notification service
subscribes to for it, ``rides.*``)."""

from __future__ import annotations

from kilat.services.notification.verticals import parcels, rail, rides

_MODULES = (rides, parcels, rail)

RULES = {kind: rule for module in _MODULES for kind, rule in module.RULES.items()}
TEMPLATES = {name: text for module in _MODULES for name, text in module.TEMPLATES.items()}
FAMILIES = tuple(family for module in _MODULES for family in module.FAMILIES)
