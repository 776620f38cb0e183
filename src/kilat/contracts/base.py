"""The contract base: a frozen payload whose JSON form is the event's ``data`` on the wire."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

# ``isoformat()`` on the wire (``+00:00``), as every producer wrote before the contracts existed
Time = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str, when_used="json")]

_REGISTRY: dict[str, type[Contract]] = {}
_FAMILIES: dict[str, type[Contract]] = {}


class Contract(BaseModel):
    """One event type's payload. ``TYPE`` names it, ``VERSION`` its shape, ``SUBJECT`` the field
    holding the aggregate id its events are ordered by. Unknown fields are ignored, so producers
    and consumers of neighbouring versions interoperate; a field a producer may omit is optional.
    A base naming a ``FAMILY`` (``booking``) reads a type of that family this build does not know
    yet, so a ``booking.*`` handler keeps working when the booking service adds a type."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    SUBJECT: ClassVar[str | None] = None
    FAMILY: ClassVar[str | None] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "FAMILY" in cls.__dict__:
            _FAMILIES[cls.FAMILY] = cls
        if "TYPE" in cls.__dict__:
            known = _REGISTRY.setdefault(cls.TYPE, cls)
            if known is not cls and known.__qualname__ != cls.__qualname__:
                raise TypeError(f"{cls.TYPE} already has a contract: {known.__qualname__}")
            _REGISTRY[cls.TYPE] = cls

    def data(self) -> dict[str, Any]:
        """The payload as it travels: ids as strings, times in ISO 8601."""
        return self.model_dump(mode="json")

    @property
    def subject(self) -> str | None:
        value = getattr(self, self.SUBJECT) if self.SUBJECT else None
        return None if value is None else str(value)


def by_type(event_type: str) -> type[Contract]:
    """The contract of ``event_type``; ``LookupError`` when there is none."""
    contract = _REGISTRY.get(event_type) or _FAMILIES.get(event_type.split(".", 1)[0])
    if contract is None:
        raise LookupError(f"no contract for event type {event_type!r}")
    return contract


def registry() -> dict[str, type[Contract]]:
    return dict(_REGISTRY)


class VehicleType(StrEnum):
    """What a runner drives, in identity's runner sign-up and the runner profile alike.

    ``motorbike``, the word identity's sign-up form used, is still accepted and read as
    ``motorcycle``, so the web clients' requests keep working."""

    CAR = "car"
    VAN = "van"
    MOTORCYCLE = "motorcycle"
    BICYCLE = "bicycle"

    @classmethod
    def _missing_(cls, value: object) -> VehicleType | None:
        return cls.MOTORCYCLE if value == "motorbike" else None

    @property
    def motorised(self) -> bool:
        """A motorised vehicle carries a plate, which a runner must declare."""
        return self is not VehicleType.BICYCLE
