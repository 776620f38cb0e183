"""The booking service's Context: its settings and photo storage, one per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import service_context
from kilat.platform.storage import BlobStorage
from kilat.services.booking.settings import BookingSettings


@dataclass
class BookingContext:
    settings: BookingSettings
    storage: BlobStorage


Ctx = Annotated[BookingContext, Depends(service_context)]
