"""Customers (profile, addresses, GDPR erase) and couriers (registration, online, location)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.parcels import CustomerErased
from kilat.platform.auth import Principal
from kilat.platform.db import after_commit
from kilat.platform.errors import BadRequest, Conflict, Forbidden, not_found
from kilat.platform.events import record_event
from kilat.platform.geo import is_possible_position
from kilat.platform.geoindex import check_indexable
from kilat.platform.models import utcnow
from kilat.services.parcels.audit import Actor, audit
from kilat.services.parcels.models import Courier, CourierShift, Customer, DeliveryAddress
from kilat.services.parcels.repository import Couriers, Customers, Orders, Sessions, Shipments, Webhooks
from kilat.services.parcels.schemas import AddressCreate, CourierCreate, CustomerUpdate

ERASED = "erased"


def check_position(latitude: float, longitude: float) -> None:
    if not is_possible_position(latitude, longitude):
        raise BadRequest("impossible coordinates",
                         "latitude must be in [-90, 90], longitude in [-180, 180], not (0, 0)")


class CustomerService:
    def __init__(self, session: AsyncSession, context: Any = None) -> None:
        self.session = session
        self.context = context
        self.repo = Customers(session)

    async def profile(self, user: Principal, *, create: bool = True) -> Customer:
        """The caller's customer profile, made on first write from the access token (a read
        shows the profile it would be, unsaved)."""
        customer = await self.repo.get(user.user_id)
        if customer is None:
            customer = Customer(user_id=user.user_id, email=user.email, full_name="",
                                language="en", city="", segment="regular",
                                marketing_opt_in=False, created_at=utcnow())
            if not create:
                return customer
            self.session.add(customer)
            await self.session.flush()
        if customer.erased_at is not None:
            raise Forbidden("this customer's data was erased")
        return customer

    async def update(self, user: Principal, body: CustomerUpdate, actor: Actor) -> Customer:
        customer = await self.profile(user)
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        for name, value in changes.items():
            setattr(customer, name, value)
        await self.session.flush()
        audit(self.session, actor, "customer.update", "customers", customer.user_id, changes)
        return customer

    async def addresses(self, user: Principal) -> list[DeliveryAddress]:
        await self.profile(user, create=False)
        return await self.repo.addresses(user.user_id)

    async def add_address(self, user: Principal, body: AddressCreate, actor: Actor) -> DeliveryAddress:
        await self.profile(user)
        check_position(body.latitude, body.longitude)
        address = DeliveryAddress(customer_id=user.user_id, **body.model_dump())
        self.session.add(address)
        await self.session.flush()
        if address.is_default:
            await self.repo.clear_default(user.user_id, address.id)
        audit(self.session, actor, "address.create", "delivery_addresses", address.id,
              body.model_dump())
        return address

    async def address(self, user: Principal, address_id: uuid.UUID) -> DeliveryAddress:
        address = await self.repo.load(DeliveryAddress, address_id)
        if address is None or address.customer_id != user.user_id:
            raise not_found("Address", address_id)
        return address

    async def replace_address(self, user: Principal, address_id: uuid.UUID, body: AddressCreate,
                              actor: Actor) -> DeliveryAddress:
        address = await self.address(user, address_id)
        check_position(body.latitude, body.longitude)
        for name, value in body.model_dump().items():
            setattr(address, name, value)
        await self.session.flush()
        if address.is_default:
            await self.repo.clear_default(user.user_id, address.id)
        audit(self.session, actor, "address.update", "delivery_addresses", address.id,
              body.model_dump())
        return address

    async def delete_address(self, user: Principal, address_id: uuid.UUID, actor: Actor) -> None:
        address = await self.address(user, address_id)
        await self.session.delete(address)
        audit(self.session, actor, "address.delete", "delivery_addresses", address_id, {})

    async def erase(self, customer_id: uuid.UUID, actor: Actor) -> dict[str, Any]:
        """GDPR erase: personal data anonymised, addresses and photos deleted, sessions and
        webhooks revoked; orders, prices, charges and shipment times stay for the books."""
        customer = await self.repo.get(customer_id)
        orders = await Orders(self.session).of_customer_all(customer_id)
        if customer is None and not orders:
            raise not_found("Customer", customer_id)
        now = utcnow()
        if customer is None:
            customer = Customer(user_id=customer_id, full_name=ERASED)
            self.session.add(customer)
        customer.full_name, customer.email, customer.phone = ERASED, None, None
        customer.city, customer.marketing_opt_in, customer.erased_at = "", False, now
        for address in await self.repo.addresses(customer_id):
            await self.session.delete(address)
        for order in orders:
            order.pickup = _anonymous_place(order.pickup)
            order.dropoff = _anonymous_place(order.dropoff)
        photos = await self._erase_shipments(customer_id)
        await self._revoke_sessions(customer_id, now)
        for hook in await Webhooks(self.session).of_customer(customer_id):
            hook.active, hook.deleted_at, hook.secret, hook.url = False, now, ERASED, ERASED
            await Webhooks(self.session).give_up_pending(hook.id)
        await self.session.flush()
        await record_event(self.session, CustomerErased(customer_id=customer_id, erased_at=now))
        audit(self.session, actor, "customer.erase", "customers", customer_id,
              {"erased_at": now, "orders_kept": len(orders), "photos_deleted": len(photos)})
        storage = self.context.storage
        for key in photos:
            after_commit(self.session, lambda key=key: storage.delete(key))
        return {"customer_id": customer_id, "erased_at": now, "orders_kept": len(orders),
                "photos_deleted": len(photos)}

    async def _erase_shipments(self, customer_id: uuid.UUID) -> list[str]:
        photos = []
        for shipment in await Shipments(self.session).with_photos_of(customer_id):
            if shipment.proof_photo_key:
                photos.append(shipment.proof_photo_key)
            shipment.recipient_name = ERASED if shipment.recipient_name else None
            shipment.proof_photo_key = shipment.proof_photo_url = None
            for name in ("pickup_latitude", "pickup_longitude", "dropoff_latitude",
                         "dropoff_longitude"):
                setattr(shipment, name, round(getattr(shipment, name), 2))
            for stop in await Shipments(self.session).stops(shipment.id):
                stop.latitude, stop.longitude = round(stop.latitude, 2), round(stop.longitude, 2)
        return photos

    async def _revoke_sessions(self, customer_id: uuid.UUID, now) -> None:
        live = self.context.live
        for tracking in await Sessions(self.session).live_of_customer(customer_id):
            tracking.revoked_at = now
            shipment = await Shipments(self.session).of_order(tracking.order_id)
            token, number = str(tracking.session_token), shipment.tracking_number
            after_commit(self.session, lambda n=number, t=token: live.revoke(n, t))


def _anonymous_place(place: dict[str, Any]) -> dict[str, Any]:
    """Only the city and coarse coordinates (about 1 km) stay: enough for the city reports."""
    return {"city": place.get("city", ""), "latitude": round(place.get("latitude", 0.0), 2),
            "longitude": round(place.get("longitude", 0.0), 2), "erased": True}


class CourierService:
    def __init__(self, session: AsyncSession, context: Any) -> None:
        self.session = session
        self.context = context
        self.repo = Couriers(session)

    async def register(self, user: Principal, body: CourierCreate, actor: Actor) -> Courier:
        if await self.repo.get(user.user_id) is not None:
            raise Conflict("already registered as a courier")
        courier = Courier(user_id=user.user_id, vehicle_type=body.vehicle_type,
                          vehicle_plate=body.vehicle_plate.upper(), status="offline")
        self.session.add(courier)
        await self.session.flush()
        audit(self.session, actor, "courier.register", "couriers", courier.user_id,
              body.model_dump())
        return courier

    async def mine(self, user: Principal) -> Courier:
        courier = await self.repo.get(user.user_id)
        if courier is None:
            raise not_found("Courier", user.user_id)
        return courier

    async def set_status(self, user: Principal, status: str, actor: Actor) -> Courier:
        courier = await self.mine(user)
        if courier.status == status:
            return courier
        before = courier.status
        courier.status = status
        self.session.add(CourierShift(courier_id=courier.user_id, kind=status, at=utcnow()))
        await self.session.flush()
        audit(self.session, actor, f"courier.{status}", "couriers", courier.user_id,
              {"status": [before, status]})
        live = self.context.live
        if status == "online":
            after_commit(self.session, lambda: live.courier_online(courier))
        else:
            courier_id = courier.user_id
            after_commit(self.session, lambda: live.courier_offline(courier_id))
        return courier


def check_live(latitude: float, longitude: float) -> None:
    check_position(latitude, longitude)
    check_indexable(latitude, longitude)
