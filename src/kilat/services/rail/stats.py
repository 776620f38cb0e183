"""``daily_stats`` kept from the rail service's own events, each fact counted once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.rail import (
    RailBookingConfirmed,
    RailBookingCreated,
    RailBookingFact,
    RailBookingFailed,
    RailBookingRefunded,
)
from kilat.services.rail.models import DailyStat
from kilat.services.rail.repository import Stats
from kilat.services.rail.timetable import DHAKA


def stat_date(fact: RailBookingFact, fallback: datetime) -> date:
    """The local (Dhaka) date the fact happened on."""
    return (fact.occurred_at or fallback).astimezone(DHAKA).date()


class StatsService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = Stats(session)

    async def record(self, fact: RailBookingFact, event_time: datetime) -> None:
        if not await self.repo.first_time(f"{fact.TYPE}:{fact.booking_id}"):
            return
        day = stat_date(fact, event_time)
        if isinstance(fact, RailBookingCreated):
            new_user = fact.user_id is not None and await self.repo.new_user(day, fact.user_id)
            await self.repo.add(day, total_bookings=1, unique_users=int(new_user))
        elif isinstance(fact, RailBookingConfirmed):
            await self.repo.add(day, successful_bookings=1, total_revenue=fact.total_fare,
                                total_passengers=fact.passengers)
        elif isinstance(fact, RailBookingFailed):
            await self.repo.add(day, failed_bookings=1)
        elif isinstance(fact, RailBookingRefunded):
            await self.repo.add(day, total_revenue=-fact.refund_amount)

    async def between(self, start: date, end: date) -> list[DailyStat]:
        return await self.repo.between(start, end)
