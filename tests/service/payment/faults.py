"""Fault plans for payment tests: the built-in provider and rail, failing when a test says so."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from kilat.platform.runtime import ServiceRuntime
from kilat.services.payment.adapters.provider import (
    BuiltinProvider,
    PaymentIntent,
    ProviderError,
)
from kilat.services.payment.adapters.rail import RailError, SimulatedRail, Transfer
from kilat.services.payment.context import PaymentContext, build_context


@dataclass
class FaultPlan:
    """Failures to inject, per operation: before acting, or after acting with the reply lost."""

    pending: dict[str, list[bool]] = field(default_factory=dict)

    def fail_next(self, operation: str, *, times: int = 1, after_acting: bool = False) -> None:
        self.pending.setdefault(operation, []).extend([after_acting] * times)

    def take(self, operation: str) -> bool | None:
        queue = self.pending.get(operation)
        return queue.pop(0) if queue else None


class FaultyProvider(BuiltinProvider):
    """The built-in provider whose next calls fail as ``faults`` plans."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.faults = FaultPlan()

    async def _planned(self, operation: str, call) -> PaymentIntent:
        """``call`` makes the real call's coroutine: made only when the call happens."""
        planned = self.faults.take(operation)
        if planned is False:
            raise ProviderError(f"{operation}: processor unavailable")
        intent = await call()
        if planned:
            raise ProviderError(f"{operation}: reply lost")
        return intent

    async def authorize(self, **kwargs) -> PaymentIntent:
        return await self._planned(
            "authorize", lambda: super(FaultyProvider, self).authorize(**kwargs))

    async def charge(self, **kwargs) -> PaymentIntent:
        return await self._planned("charge", lambda: super(FaultyProvider, self).charge(**kwargs))

    async def capture(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return await self._planned(
            "capture", lambda: super(FaultyProvider, self).capture(intent_id,
                                                               idempotency_key=idempotency_key))

    async def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return await self._planned(
            "cancel", lambda: super(FaultyProvider, self).cancel(intent_id,
                                                               idempotency_key=idempotency_key))

    async def refund(self, intent_id: str, *, idempotency_key: str,
                     amount_cents: int | None = None) -> PaymentIntent:
        return await self._planned(
            "refund", lambda: super(FaultyProvider, self).refund(
                intent_id, idempotency_key=idempotency_key, amount_cents=amount_cents))


class FaultyRail(SimulatedRail):
    """The simulated rail whose next calls fail as ``faults`` plans."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.faults = FaultPlan()

    def _planned(self, operation: str) -> None:
        if self.faults.take(operation) is not None:
            raise RailError(f"{operation}: rail unavailable")

    async def submit(self, **kwargs) -> Transfer:
        self._planned("submit")
        return await super().submit(**kwargs)

    async def status(self, reference: str) -> Transfer:
        self._planned("status")
        return await super().status(reference)


def faulty_context(runtime: ServiceRuntime) -> PaymentContext:
    """The service's own Context with the fault-planning provider and rail in place."""
    ctx = build_context(runtime)
    provider = FaultyProvider(ctx.database,
                              authorization_expiry=ctx.provider.authorization_expiry)
    rail = FaultyRail(ctx.database, delay=ctx.rail.delay)
    return replace(ctx, provider=provider, rail=rail)
