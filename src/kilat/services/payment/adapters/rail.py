"""The payout rail port and a simulated DuitNow rail that settles after a configurable delay."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kilat.platform.models import utcnow
from kilat.services.payment.models import RailTransfer


class TransferStatus(StrEnum):
    PROCESSING = "processing"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Transfer:
    reference: str
    status: str


class RailError(Exception):
    """Transient: the rail could not be reached."""


class UnknownTransfer(Exception):
    pass


class PayoutRail(Protocol):
    """A bank transfer rail.

    - ``submit`` MUST be idempotent by ``transfer_id``: a repeat returns the same reference.
    - ``status`` MUST report ``processing`` until the money has arrived, then ``completed``; it
      MUST raise ``UnknownTransfer`` for a reference it never issued and MAY raise ``RailError``.
    """

    async def submit(self, *, transfer_id: str, amount_cents: int, currency: str,
                     destination: dict) -> Transfer: ...

    async def status(self, reference: str) -> Transfer: ...


class SimulatedRail:
    """DuitNow stand-in: references ``DN-<uuid>``, settled ``delay`` after submission."""

    def __init__(self, database, *, delay: timedelta,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.delay = delay
        self.clock = clock

    async def submit(self, *, transfer_id, amount_cents, currency, destination) -> Transfer:
        now = self.clock()
        row = RailTransfer(reference=f"DN-{uuid.uuid4()}", transfer_id=transfer_id,
                           amount_cents=amount_cents, currency=currency, submitted_at=now,
                           settles_at=now + self.delay)
        try:
            async with self.database.session() as session:
                existing = await self._by_transfer(session, transfer_id)
                if existing is not None:
                    return self._transfer(existing)
                session.add(row)
        except IntegrityError:
            async with self.database.session(write=False) as session:
                return self._transfer(await self._by_transfer(session, transfer_id))
        return self._transfer(row)

    async def status(self, reference: str) -> Transfer:
        async with self.database.session(write=False) as session:
            row = await session.get(RailTransfer, reference)
        if row is None:
            raise UnknownTransfer(reference)
        return self._transfer(row)

    def _transfer(self, row: RailTransfer) -> Transfer:
        settled = self.clock() >= row.settles_at
        return Transfer(row.reference,
                        TransferStatus.COMPLETED if settled else TransferStatus.PROCESSING)

    @staticmethod
    async def _by_transfer(session, transfer_id: str) -> RailTransfer | None:
        query = select(RailTransfer).where(RailTransfer.transfer_id == transfer_id)
        return await session.scalar(query)
