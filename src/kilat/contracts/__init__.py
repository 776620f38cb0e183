"""Typed event contracts: one payload class per event type, imported by publisher and consumers.

The one package services share besides the kernel. ``record_event(session, BookingAccepted(...))``
publishes one; a handler reads ``event.payload``, the parsed contract of ``event.type``.
"""

from kilat.contracts import booking, charges, identity, parcels, payment, rail, review, runner, tracking
from kilat.contracts import rides  # noqa: F401 - the rides vertical's events
from kilat.contracts.base import Contract, Time, VehicleType, by_type, registry

__all__ = ["Contract", "Time", "VehicleType", "booking", "by_type", "charges", "identity", "parcels", "payment",
           "rail", "registry", "review", "runner", "tracking"]
