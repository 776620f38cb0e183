"""DropMate in the simulated city: customers order and pay for parcels picked up near the
couriers on duty; couriers list the open jobs, the nearest who saw one claims it (a rival who saw
it too may try and lose, 409), pick it up, carry it with GPS fixes and deliver it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kilat.platform.geo import haversine_km
from kilat.simulate.agents import Agent
from kilat.simulate.city import NEIGHBOURHOODS, STREETS, Vehicle, random_place
from kilat.simulate.client import ApiError, UserClient
from kilat.simulate.config import SimulationConfig
from kilat.simulate.vertical import Point, Vertical, point_near

PARCELS = "/api/v1/parcels"
GOODS = (  # description, weight range kg, (length, width, height) cm
    ("documents", (0.2, 1.0), (35, 25, 3)),
    ("books", (1.0, 6.0), (40, 30, 20)),
    ("shoes", (0.8, 2.0), (35, 22, 14)),
    ("phone accessories", (0.1, 0.8), (20, 15, 8)),
    ("durian (sealed)", (2.0, 5.0), (35, 35, 30)),
)
CENTRE = NEIGHBOURHOODS[:6]  # couriers wait where the orders are: a few km from each other
NAMES = ("Aisyah", "Wei Ling", "Ravi", "Nurul", "Jason", "Siti", "Kumar", "Mei")


class OrderStatus(StrEnum):
    PAYMENT_PENDING = "payment_pending"
    PAID = "paid"
    CLAIMED = "assigned"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


ENDED = (OrderStatus.DELIVERED, OrderStatus.CANCELLED)


@dataclass
class Parcel:
    index: str  # the customer's name and order number: known before any order is answered
    customer: int
    order_id: str
    shipment_id: str
    pickup: Point
    dropoff: Point
    status: OrderStatus
    paid_tick: int | None = None
    courier: int | None = None


class Customer(Agent):
    role = "customer"
    phone_block = 4

    def __init__(self, index: int, config: SimulationConfig, client: UserClient) -> None:
        super().__init__(index, config, client)
        self.parcel: Parcel | None = None
        self.next_order_tick = 0
        self.orders = 0

    def wants_to_send(self, tick: int) -> bool:
        return self.ready and self.parcel is None and tick >= self.next_order_tick

    def choose(self, couriers: list[Courier]) -> Courier:
        return self.rng.choice(couriers)

    async def step(self, tick: int, near: Courier | None, parcels: list[Parcel]) -> None:
        """Sign up, order and pay, check a late payment, give up on an unclaimed parcel, or see
        it delivered."""
        if not self.ready:
            if tick >= self.setup_tick():
                await self.sign_up()
                self.ready = True
                self.next_order_tick = tick + self.rng.randint(*self.config.think_ticks)
            return
        parcel = self.parcel
        if parcel is None:
            if near is not None:
                await self._order(tick, near, parcels)
        elif parcel.status is OrderStatus.PAYMENT_PENDING:
            if (tick + self.index) % self.config.check_every_ticks == 0:
                await self._check_payment(tick, parcel)
        elif (parcel.status is OrderStatus.PAID
              and tick - parcel.paid_tick >= self.config.give_up_ticks):
            await self.client.call("parcel_cancel", "POST",
                                   f"{PARCELS}/orders/{parcel.order_id}/cancel",
                                   {"reason": "nobody came"})
            parcel.status = OrderStatus.CANCELLED
            self.did("parcel_cancel", parcel.index)
            self._done(tick)
        elif parcel.status is OrderStatus.DELIVERED:
            self.did("parcel_received", parcel.index)
            self._done(tick)

    async def _order(self, tick: int, near: Courier, parcels: list[Parcel]) -> None:
        pickup = point_near(self.rng, near.position, 0.3, 3.0)
        dropoff = point_near(self.rng, pickup, 1.0, self.config.max_trip_km)
        items = [self._item() for _ in range(self.rng.choice((1, 1, 2)))]
        body = {"pickup_address": self._address(pickup), "dropoff_address": self._address(dropoff),
                "items": items, "service_level": self.rng.choice(("standard", "express"))}
        self.next_order_tick = tick + self.rng.randint(*self.config.think_ticks)
        order = await self.client.call("parcel_order", "POST", f"{PARCELS}/orders", body)
        self.orders += 1
        parcel = Parcel(f"{self.name}#{self.orders}", self.index, order["id"],
                        order["shipment"]["id"], pickup, dropoff, OrderStatus.PAYMENT_PENDING)
        parcels.append(parcel)
        self.parcel = parcel
        self.did("parcel_order", parcel.index, body["service_level"], len(items))
        paid = await self.client.call("parcel_pay", "POST", f"{PARCELS}/orders/{order['id']}/pay")
        if paid["status"] == "paid":  # the payment service answered within the platform's wait
            parcel.status, parcel.paid_tick = OrderStatus.PAID, tick
            self.did("parcel_paid", parcel.index)
        else:
            self.did("parcel_pay_pending", parcel.index)

    async def _check_payment(self, tick: int, parcel: Parcel) -> None:
        order = await self.client.call("parcel_check", "GET", f"{PARCELS}/orders/{parcel.order_id}")
        if order["status"] == "paid":
            parcel.status, parcel.paid_tick = OrderStatus.PAID, tick
            self.did("parcel_paid_late", parcel.index)

    def _address(self, point: Point) -> dict:
        area = min(NEIGHBOURHOODS, key=lambda n: (n.latitude - point[0]) ** 2
                   + (n.longitude - point[1]) ** 2)
        return {"line1": f"{self.rng.randint(1, 250)}, {self.rng.choice(STREETS)}",
                "city": area.name, "postal_code": area.postal_code,
                "latitude": point[0], "longitude": point[1],
                "contact_name": self.rng.choice(NAMES),
                "contact_phone": f"+6019{self.rng.randint(1_000_000, 9_999_999)}"}

    def _item(self) -> dict:
        description, (low, high), (length, width, height) = self.rng.choice(GOODS)
        return {"description": description, "weight_kg": round(self.rng.uniform(low, high), 1),
                "length_cm": length, "width_cm": width, "height_cm": height,
                "quantity": self.rng.choice((1, 1, 2))}

    def _done(self, tick: int) -> None:
        self.parcel = None
        self.next_order_tick = max(self.next_order_tick,
                                   tick + self.rng.randint(*self.config.think_ticks))


class Courier(Agent):
    role = "courier"
    phone_block = 5

    def __init__(self, index: int, config: SimulationConfig, client: UserClient) -> None:
        super().__init__(index, config, client)
        start = random_place(self.rng, self.rng.choice(CENTRE))
        self.vehicle = Vehicle(start.latitude, start.longitude)
        self.cruise_to = random_place(self.rng, start.neighbourhood)
        self.parcel: Parcel | None = None
        self.leg_ends = 0
        self.seen: dict[str, float] = {}  # shipment id → km from me, as my last job list said

    @property
    def position(self) -> Point:
        return round(self.vehicle.latitude, 6), round(self.vehicle.longitude, 6)

    async def step(self, tick: int, pickups: dict[str, Point]) -> None:
        """Sign up and go online, drive, report fixes, list jobs, or move my parcel on."""
        if not self.ready:
            if tick >= self.setup_tick():
                await self._sign_up_and_go_online()
            return
        self._drive()
        if self.parcel is None:
            if (tick + self.index) % self.config.ping_every_ticks == 0:
                await self._fix()
            if tick % self.config.poll_every_ticks == 0:  # the job board refreshes for all
                await self._list_jobs(pickups)
            return
        if (tick + self.index) % self.config.ping_every_ticks == 0:
            await self._fix()
        await self._work(tick)

    async def _list_jobs(self, pickups: dict[str, Point]) -> None:
        """The jobs the platform lists for me, at the distance I know I am from each (the list's
        own distance is from my last position the platform has stored, a moment behind)."""
        jobs = await self.client.call("parcel_jobs", "GET", f"{PARCELS}/jobs")
        here = self.position
        distances = {job["shipment_id"]: round(haversine_km(*here, *pickups[job["shipment_id"]]), 3)
                     for job in jobs if job["shipment_id"] in pickups}
        self.seen = {shipment: km for shipment, km in distances.items()
                     if km <= self.config.search_radius_km}

    async def _sign_up_and_go_online(self) -> None:
        await self.sign_up()
        vehicle = self.rng.choice(("motorcycle", "motorcycle", "car", "van"))
        await self.client.call("courier_profile", "POST", f"{PARCELS}/couriers",
                               {"vehicle_type": vehicle, "vehicle_plate": f"V {self.index:04d} DM"})
        await self.client.call("courier_online", "POST", f"{PARCELS}/couriers/me/online")
        await self._fix()
        self.ready = True

    def _drive(self) -> None:
        if self.parcel is None:
            target = self.cruise_to.latitude, self.cruise_to.longitude
        else:
            target = self.parcel.pickup if self.parcel.status is OrderStatus.CLAIMED \
                else self.parcel.dropoff
        if self.vehicle.drive(self.rng, target, self.config.tick_seconds) and self.parcel is None:
            self.cruise_to = random_place(self.rng, self.cruise_to.neighbourhood)

    async def _fix(self) -> None:
        fix = self.vehicle.fix(self.rng).body()
        fix["heading_degrees"] %= 360  # 359.96 rounds to 360.0, which the API refuses
        await self.client.call("courier_fix", "POST", f"{PARCELS}/couriers/me/location", fix)

    async def claim(self, tick: int, parcel: Parcel) -> None:
        await self.client.call("parcel_claim", "POST",
                               f"{PARCELS}/shipments/{parcel.shipment_id}/claim")
        parcel.status, parcel.courier = OrderStatus.CLAIMED, self.index
        self.parcel, self.seen = parcel, {}
        self.leg_ends = tick + self.rng.randint(*self.config.leg_ticks)
        self.did("parcel_claim", parcel.index)

    async def claim_too(self, parcel: Parcel) -> None:
        """A rival who saw the same job tries too, after the winner: one winner, 409 for me."""
        try:
            await self.client.call("parcel_claim", "POST",
                                   f"{PARCELS}/shipments/{parcel.shipment_id}/claim",
                                   expected=(409,))
        except ApiError as exc:
            if exc.status == 409:
                self.did("parcel_claim_lost", parcel.index)
            return
        self.client.stats.error("parcel_claim", 200, f"parcel {parcel.index} claimed twice")

    async def _work(self, tick: int) -> None:
        parcel = self.parcel
        path = f"{PARCELS}/shipments/{parcel.shipment_id}"
        if parcel.status is OrderStatus.CLAIMED and tick >= self.leg_ends:
            await self.client.call("parcel_pickup", "POST", f"{path}/pickup")
            parcel.status = OrderStatus.PICKED_UP
            self.did("parcel_pickup", parcel.index)
        elif parcel.status is OrderStatus.PICKED_UP:
            await self.client.call("parcel_in_transit", "POST", f"{path}/in-transit")
            parcel.status = OrderStatus.IN_TRANSIT
            self.leg_ends = tick + self.rng.randint(*self.config.leg_ticks)
            self.did("parcel_in_transit", parcel.index)
        elif parcel.status is OrderStatus.IN_TRANSIT and tick >= self.leg_ends:
            await self.client.call("parcel_deliver", "POST", f"{path}/deliver",
                                   form={"recipient_name": self.rng.choice(NAMES)})
            parcel.status = OrderStatus.DELIVERED
            self.parcel = None
            self.did("parcel_deliver", parcel.index)


class ParcelsCity(Vertical):
    name = "parcels"
    counted = {"parcel_order": "orders", "parcel_paid": "paid", "parcel_paid_late": "paid",
               "parcel_claim": "claimed",
               "parcel_claim_lost": "claim_lost", "parcel_pickup": "picked_up",
               "parcel_in_transit": "in_transit", "parcel_deliver": "delivered",
               "parcel_cancel": "cancelled"}

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.customers = [Customer(i, self.config, self.client())
                          for i in range(self.config.customers)]
        self.couriers = [Courier(i, self.config, self.client())
                         for i in range(self.config.couriers)]
        self.parcels: list[Parcel] = []

    @property
    def agents(self) -> list[Agent]:
        return [*self.customers, *self.couriers]

    async def tick(self, tick: int) -> None:
        online = [c for c in self.couriers if c.ready]
        near = {c.index: c.choose(online) for c in self.customers
                if online and c.wants_to_send(tick)}
        await self.phase(self.customers, [
            c.step(tick, near.get(c.index), self.parcels) for c in self.customers])
        pickups = {p.shipment_id: p.pickup for p in self.parcels if p.status is OrderStatus.PAID}
        await self.phase(self.couriers, [c.step(tick, pickups) for c in self.couriers])
        claims, rivals = self._match()
        await self.phase([c for c, _ in claims], [c.claim(tick, p) for c, p in claims])
        await self.phase([c for c, _ in rivals], [c.claim_too(p) for c, p in rivals])
        self.parcels = [p for p in self.parcels if p.status not in ENDED]

    def _match(self) -> tuple[list[tuple[Courier, Parcel]], list[tuple[Courier, Parcel]]]:
        """Each paid parcel, oldest first, goes to the nearest free courier whose last job list
        showed it; the next nearest who saw it there may try as well."""
        taken: set[int] = set()
        claims, rivals = [], []
        paid = [p for p in self.parcels if p.status is OrderStatus.PAID]
        for parcel in sorted(paid, key=lambda p: (p.paid_tick, p.customer)):
            saw = sorted((c for c in self.couriers if parcel.shipment_id in c.seen
                          and c.parcel is None),
                         key=lambda c: (c.seen[parcel.shipment_id], c.index))
            free = [c for c in saw if c.index not in taken]
            if not free:
                continue
            winner = free[0]
            taken.add(winner.index)
            claims.append((winner, parcel))
            others = [c for c in saw if c is not winner]
            if others and others[0].rng.random() < self.config.rival_rate:
                rivals.append((others[0], parcel))
        return claims, rivals
