"""Drivers: their vehicle, and the beacon that puts them in (or takes them out of) matching."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.platform.errors import Conflict, Unprocessable, not_found
from kilat.platform.geo import is_possible_position
from kilat.platform.geoindex import Availability, check_indexable
from kilat.services.rides.context import RidesContext
from kilat.services.rides.models import Driver
from kilat.services.rides.repository import Drivers, Matches
from kilat.services.rides.schemas import Beacon, DriverCreate


class DriverProfiles:
    def __init__(self, session: AsyncSession, context: RidesContext, now: datetime) -> None:
        self.session = session
        self.live = context.live
        self.now = now
        self.drivers = Drivers(session)

    async def register(self, user: Principal, body: DriverCreate) -> Driver:
        if await self.drivers.get(user.user_id) is not None:
            raise Conflict("already registered as a driver")
        driver = Driver(user_id=user.user_id, vehicle_type=body.vehicle_type.value,
                        vehicle_plate=" ".join(body.vehicle_plate.upper().split()),
                        available=False, created_at=self.now, updated_at=self.now)
        try:
            async with self.session.begin_nested():
                self.session.add(driver)
                await self.session.flush()
        except IntegrityError as exc:
            raise Conflict("already registered as a driver") from exc
        return driver

    async def me(self, user: Principal) -> Driver:
        driver = await self.drivers.get(user.user_id)
        if driver is None:
            raise not_found("Driver", user.user_id)
        return driver

    async def beacon(self, user: Principal, body: Beacon) -> Driver:
        """Switch availability and report where the driver is; the live index holds it, with
        the time it was last seen, so a silent driver drops out on their own."""
        driver = await self.me(user)
        if not is_possible_position(body.latitude, body.longitude):
            raise Unprocessable("impossible coordinates", "(0, 0) is not a place")
        check_indexable(body.latitude, body.longitude)
        driver.available = body.available
        driver.latitude, driver.longitude, driver.beacon_at = (body.latitude, body.longitude,
                                                               self.now)
        driver.updated_at = self.now
        await self.session.flush()
        if body.available:
            busy = await Matches(self.session).active_of(user.user_id) is not None
            await self.live.place(user.user_id, body.latitude, body.longitude,
                                  Availability.BUSY if busy else Availability.AVAILABLE)
        else:
            await self.live.index.remove(str(user.user_id), self.live.now_epoch())
        return driver
