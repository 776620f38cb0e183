"""Events for any contract: given values, and a plausible value for every other field, so the
rule-wide tests keep reading every vertical's events as contracts gain fields."""

from __future__ import annotations

import types
import typing
import uuid
from datetime import datetime
from enum import Enum
from typing import Any

from kilat.contracts import by_type

SAMPLE_TIME = "2026-12-07T09:00:00+00:00"


def plausible(annotation: Any) -> Any:
    """A value of the annotated type (the first of a union that is not None)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return plausible(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        return plausible(kinds[0]) if kinds else None
    if origin is typing.Literal:
        return typing.get_args(annotation)[0]
    if origin in (list, tuple, set, frozenset):
        return []
    if origin is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return next(iter(annotation)).value
        if issubclass(annotation, bool):
            return True
        for kind, value in ((uuid.UUID, lambda: str(uuid.uuid4())), (int, lambda: 1),
                            (float, lambda: 1.0), (datetime, lambda: SAMPLE_TIME),
                            (str, lambda: "x")):
            if issubclass(annotation, kind):
                return value()
    return None


def complete(event_type: str, data: dict) -> dict:
    """``data`` with a plausible value for every field of the type's contract it lacks."""
    filled = dict(data)
    for name, field in by_type(event_type).model_fields.items():
        if name not in filled:
            filled[name] = plausible(field.annotation)
    return filled
