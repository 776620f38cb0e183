"""Jatra in the simulated city: travellers search the demo timetable, open a train's seat map and
hold one or two free seats; two who want the same seats in the same tick hold them in traveller
order, and the later one gets 409. With an admin to read the development sink, the traveller books,
enters the code sent by SMS and e-mail, pays and gets the tickets (in the background: the code
and the payment are asynchronous); without one, the code cannot be read, and the hold is released.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kilat.simulate.agents import Action, Agent
from kilat.simulate.client import ApiError, UserClient
from kilat.simulate.config import SimulationConfig
from kilat.simulate.vertical import Vertical

RAIL = "/api/v1/rail"
ROUTES = (("DHK", "CTG"), ("DHK", "CTG"), ("CTG", "DHK"), ("DHK", "SYL"), ("DHK", "RAJ"))
NAMES = ("Rahim Uddin", "Fatema Begum", "Karim Ahmed", "Nusrat Jahan", "Tanvir Hasan",
         "Sadia Islam", "Arif Hossain", "Mim Akter")
DHAKA = ZoneInfo("Asia/Dhaka")
CODE = re.compile(r"\b(\d{6})\b")
TRIP_EVERY = 3  # a train journey is planned less often than a ride or a parcel
# a code lives minutes; it reaches the sink through the notification service's queue, which runs
# behind the events when the whole city is busy
CODE_PATIENCE = 4
SINK_READ_SECONDS = 1.0


def dhaka_date(days_ahead: int) -> str:
    return (datetime.now(DHAKA).date() + timedelta(days=days_ahead)).isoformat()


@dataclass
class Wish:
    """Seats a traveller chose on the seat map, to hold."""

    journey_id: str
    train: str
    seat_ids: list[str]
    labels: list[str]


@dataclass
class Hold:
    index: int
    traveller: int
    hold_id: str
    wish: Wish


class Traveller(Agent):
    role = "traveller"
    identity_role = "passenger"
    phone_block = 6

    def __init__(self, index: int, config: SimulationConfig, client: UserClient) -> None:
        super().__init__(index, config, client)
        self.next_trip_tick = 0
        self.wish: Wish | None = None
        self.hold: Hold | None = None

    async def search(self, tick: int) -> None:
        """Sign up, or look for a train and choose seats on its map."""
        self.wish = None
        if not self.ready:
            if tick >= self.setup_tick():
                await self.sign_up()
                self.ready = True
                self.next_trip_tick = tick + self.rng.randint(*self.config.think_ticks)
            return
        if tick < self.next_trip_tick:
            return
        self.next_trip_tick = tick + TRIP_EVERY * self.rng.randint(*self.config.think_ticks)
        (origin, destination), ahead = self.rng.choice(ROUTES), self.rng.randint(1, 2)
        query = f"from={origin}&to={destination}&date={dhaka_date(ahead)}"
        options = await self.client.call("rail_search", "GET", f"{RAIL}/journeys/search?{query}")
        if not options:
            self.did("rail_no_journey", origin, destination, ahead)
            return
        options = sorted(options, key=lambda o: (o["departure_at"], o["train_number"]))
        option = self.rng.choice(options)
        seat_map = await self.client.call("rail_seats", "GET",
                                          f"{RAIL}/journeys/{option['journey_id']}/seats")
        travel_class = self.rng.choice(sorted({c["travel_class"] for c in seat_map["coaches"]}))
        free = [(coach["code"], seat) for coach in seat_map["coaches"]
                if coach["travel_class"] == travel_class
                for seat in coach["seats"] if seat["state"] == "available"]
        if not free:
            self.did("rail_sold_out", option["train_number"], travel_class)
            return
        # the first free seats of a class are everyone's favourites, so travellers meet there
        picked = self.rng.sample(free[:6], min(len(free[:6]), self.rng.choice((1, 1, 2))))
        self.wish = Wish(option["journey_id"], option["train_number"],
                         [seat["id"] for _, seat in picked],
                         [f"{coach}-{seat['number']}" for coach, seat in picked])
        self.did("rail_search", origin, destination, ahead, option["train_number"], travel_class)

    async def take_hold(self, number: int) -> bool:
        """Hold the seats I chose; True when I got them (the city numbers its holds)."""
        wish = self.wish
        try:
            body = {"journey_id": wish.journey_id, "seat_ids": wish.seat_ids}
            hold = await self.client.call("rail_hold", "POST", f"{RAIL}/holds", body,
                                          expected=(409,))
        except ApiError as exc:
            if exc.status == 409:  # another traveller holds one of them
                self.did("rail_hold_lost", wish.train, *wish.labels)
            return False
        self.hold = Hold(number, self.index, hold["id"], wish)
        self.did("rail_hold", self.hold.index, wish.train, *wish.labels)
        return True

    async def book_or_release(self, can_read_codes: bool) -> dict | None:
        """Book the held seats (the code follows), or give them back when no code can be read."""
        hold, self.hold = self.hold, None
        if not can_read_codes:
            await self.client.call("rail_release", "DELETE", f"{RAIL}/holds/{hold.hold_id}")
            self.did("rail_release", hold.index)
            return None
        passengers = [{"name": self.rng.choice(NAMES), "seat_id": seat,
                       "age": self.rng.randint(4, 80)} for seat in hold.wish.seat_ids]
        booking = await self.client.call("rail_book", "POST", f"{RAIL}/bookings",
                                         {"hold_id": hold.hold_id, "passengers": passengers})
        self.did("rail_book", hold.index, len(passengers))
        return booking


class RailCity(Vertical):
    name = "rail"
    counted = {"rail_search": "searches", "rail_no_journey": "search_empty",
               "rail_hold": "holds", "rail_hold_lost": "hold_conflicts",
               "rail_book": "bookings", "rail_release": "otp_skipped"}

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.travellers = [Traveller(i, self.config, self.client())
                           for i in range(self.config.travellers)]
        self.holds_made = 0
        self.open: bool | None = None  # the timetable has journeys on sale
        self.codes: CodeReader | None = None

    @property
    def agents(self) -> list[Agent]:
        return list(self.travellers)

    async def tick(self, tick: int) -> None:
        if self.open is None:
            self.open = await self._timetable_on_sale()
            self.log.extend(self._closed_notice() if not self.open else [])
        if not self.open:
            return
        await self.phase(self.travellers, [t.search(tick) for t in self.travellers])
        wishing = [t for t in self.travellers if t.wish is not None]
        await self.in_order(wishing, [lambda t=t: self._hold(t) for t in wishing])
        holding = [t for t in self.travellers if t.hold is not None]
        can_read = self.admin is not None
        bookings = await self.phase(holding, [t.book_or_release(can_read) for t in holding])
        for traveller, booking in zip(holding, bookings, strict=True):
            if booking is not None:
                self.spawn(self._code_payment_tickets(traveller, booking))

    async def _hold(self, traveller: Traveller) -> None:
        if await traveller.take_hold(self.holds_made):
            self.holds_made += 1

    async def _timetable_on_sale(self) -> bool:
        """Is anything on sale tomorrow or the day after? Else rail sits this simulation out."""
        client = self.travellers[0].client
        for ahead in (1, 2):
            query = f"from=DHK&to=CTG&date={dhaka_date(ahead)}"
            try:
                if await client.call("rail_search", "GET", f"{RAIL}/journeys/search?{query}",
                                     expected=(404,)):
                    return True
            except ApiError as exc:
                if exc.status != 404:  # 404: no such station, nothing was ever seeded
                    raise
                return False
        return False

    def _closed_notice(self) -> list[Action]:
        self.stats.skipped["rail"] = "no journeys on sale: seed the timetable (kilat rail seed)"
        return [Action("city", "rail_closed", ())]

    async def _code_payment_tickets(self, traveller: Traveller, booking: dict) -> None:
        """The code from the sink, verified; the booking paid, confirmed and ticketed."""
        client, path = traveller.client, f"{RAIL}/bookings/{booking['id']}"
        code = await self._code_for(traveller, booking["pnr"])
        if code is None:
            self.stats.error("rail_code", 0, f"no code for booking {booking['pnr']} in the sink")
            return
        await client.call("rail_verify", "POST", f"{path}/verify", {"code": code})
        self.counts["verified"] += 1
        await client.call("rail_pay", "POST", f"{path}/pay")
        confirmed = await self.wait_for("rail_confirmed", client, path,
                                        lambda b: b["status"] == "confirmed")
        if confirmed is None:
            return
        self.counts["paid"] += 1
        tickets = await client.call("rail_tickets", "GET", f"{path}/tickets")
        self.counts["ticketed"] += 1
        self.counts["tickets"] += len(tickets)

    async def _code_for(self, traveller: Traveller, pnr: str) -> str | None:
        if self.codes is None:
            self.codes = CodeReader(self.admin, self.spawn)
        return await self.codes.code_for(pnr, self.config.follow_up_seconds * CODE_PATIENCE)


class CodeReader:
    """The admin reads the development sink for every traveller waiting for a code: one read
    of the newest messages a second at most, whoever waits, so the admin's own rate limit holds
    however many travellers book at once."""

    def __init__(self, admin: UserClient, spawn) -> None:
        self.admin = admin
        self.spawn = spawn
        self.waiting: dict[str, asyncio.Future] = {}
        self.reading = False

    async def code_for(self, pnr: str, patience: float) -> str | None:
        """The code sent for booking ``pnr``, or None when it did not come in ``patience`` s."""
        found = self.waiting[pnr] = asyncio.get_running_loop().create_future()
        if not self.reading:
            self.reading = True
            self.spawn(self._read())
        try:
            return await asyncio.wait_for(asyncio.shield(found), patience)
        except TimeoutError:
            return None
        finally:
            self.waiting.pop(pnr, None)

    async def _read(self) -> None:
        try:
            while self.waiting:
                messages = await self.admin.call("rail_sink", "GET",
                                                 "/api/v1/admin/notifications/sink?limit=500")
                for message in messages:
                    for pnr, found in list(self.waiting.items()):
                        code = CODE.search(message["body"]) if pnr in message["body"] else None
                        if code and not found.done():
                            found.set_result(code[1])
                await asyncio.sleep(SINK_READ_SECONDS)
        finally:
            self.reading = False
