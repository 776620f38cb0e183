"""What the routes answer: orders and shipments shaped for their response schemas."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.services.parcels import schemas
from kilat.services.parcels.models import Order, OrderItem, Shipment
from kilat.services.parcels.repository import Shipments


def order_out(order: Order, shipment: Shipment, items: list[OrderItem]) -> schemas.Order:
    data = {name: getattr(order, name) for name in schemas.Order.model_fields
            if name not in ("items", "shipment")}
    return schemas.Order(**data, items=[schemas.Item.model_validate(i) for i in items],
                         shipment=schemas.ShipmentBrief.model_validate(shipment))


async def shipment_out(session: AsyncSession, shipment: Shipment) -> schemas.Shipment:
    stops = await Shipments(session).stops(shipment.id)
    data = {name: getattr(shipment, name) for name in schemas.Shipment.model_fields
            if name != "stops"}
    return schemas.Shipment(**data, stops=[schemas.Stop.model_validate(s) for s in stops])
