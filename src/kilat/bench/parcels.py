"""``parcels``: claim contention and telemetry ingest of the parcels service, in this process.

The service runs with its real database (SQLite file embedded; a fresh PostgreSQL database and
the Redis live index distributed) behind its ASGI app, driven without a network hop; events stay
in process and a stand-in answers its charges as the payment service would.

- claim contention: ``couriers`` online couriers race for each of ``shipments`` paid shipments;
  every shipment must get exactly one winner (the rest 409).
- telemetry ingest: the couriers post GPS fixes, 64 at a time, for ``seconds``; fixes/s is what
  one process accepts (live index, rooms, buffered write to ``courier_location_events``).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from kilat.bench.platform import POSTGRES_URL, REDIS_URL, BenchError, check_servers
from kilat.bench.results import Result, Target
from kilat.platform.auth import TokenIssuer, TokenVerifier, ensure_keypair, load_private_key, load_public_key
from kilat.platform.events import new_event
from kilat.platform.events.bus import MemoryBus
from kilat.platform.runtime import Infrastructure, ServiceRuntime, create_service_app
from kilat.platform.settings import Settings

PICKUP = {"line1": "1 Jalan Ampang", "city": "Kuala Lumpur", "latitude": 3.1579,
          "longitude": 101.7123}
DROPOFF = {"line1": "9 Jalan SS2/24", "city": "Petaling Jaya", "latitude": 3.1185,
           "longitude": 101.6235}
ITEM = {"description": "box", "weight_kg": 2, "length_cm": 30, "width_cm": 20, "height_cm": 10}


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 2) if ordered else 0.0


async def run(profile: str, *, quick: bool = False) -> list[Result]:
    shipments, couriers, seconds = (3, 10, 1.0) if quick else (20, 50, 10.0)
    with tempfile.TemporaryDirectory(prefix="kilat-bench-parcels-") as tmp:
        async with _service(profile, Path(tmp)) as (runtime, client, issuer):
            return [await _claims(client, issuer, profile, shipments, couriers),
                    await _ingest(runtime, client, issuer, profile, couriers, seconds)]


class _service:
    def __init__(self, profile: str, tmp: Path) -> None:
        self.profile, self.tmp = profile, tmp

    async def __aenter__(self):
        from kilat.services.parcels import descriptor
        from kilat.services.parcels.settings import ParcelsSettings

        settings = Settings(data_dir=self.tmp, rate_limit_per_minute=0, log_json=True,
                            outbox_poll_seconds=0.05)
        private, public = self.tmp / "jwt.pem", self.tmp / "jwt.pub.pem"
        ensure_keypair(private, public)
        issuer = TokenIssuer(load_private_key(private), issuer=settings.jwt_issuer,
                             access_ttl=settings.access_token_ttl_seconds,
                             refresh_ttl=settings.refresh_token_ttl_seconds)
        redis, url = None, None
        if self.profile == "distributed":
            check_servers()
            import redis.asyncio as aioredis

            redis = aioredis.from_url(REDIS_URL)
            url = f"{POSTGRES_URL}/kilat_bench_parcels_{uuid.uuid4().hex[:8]}"
        bus = MemoryBus()
        parcels = ParcelsSettings(location_index="redis" if redis else "memory",
                                  redis_key_prefix=f"bench{uuid.uuid4().hex[:6]}",
                                  payment_wait_seconds=5, telemetry_flush_seconds=0.5)
        infra = Infrastructure(settings=settings, bus=bus, redis=redis, issuer=issuer,
                               verifier=TokenVerifier(load_public_key(public), issuer=settings.jwt_issuer),
                               service_settings={"parcels": parcels})
        await bus.subscribe("payment", ["parcels.charge_requested"], _Captures(bus))
        self.url, self.redis, self.bus = url, redis, bus
        self.runtime = ServiceRuntime(descriptor, infra, database_url=url)
        await self.runtime.start()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(create_service_app(self.runtime)),
                                        base_url="http://bench", timeout=60)
        return self.runtime, self.client, issuer

    async def __aexit__(self, *exc) -> None:
        from kilat.platform.db import drop_database

        await self.client.aclose()
        await self.runtime.stop()
        await self.bus.close()
        if self.url:
            await drop_database(self.url)
        if self.redis is not None:
            await self.redis.aclose()


class _Captures:
    """The payment service's answer to every charge: captured."""

    def __init__(self, bus: MemoryBus) -> None:
        self.bus = bus

    async def __call__(self, delivery) -> None:
        data = delivery.event.data
        await self.bus.publish(new_event("payment.charge_captured", {
            "charge_id": data["charge_id"], "source": "parcels", "reference_id": data["reference_id"],
            "amount": data["amount"], "currency": data["currency"]}, source="payment",
            subject=data["charge_id"]))


def _headers(issuer: TokenIssuer, role: str, user_id: uuid.UUID) -> dict[str, str]:
    token = issuer.access_token(user_id, f"{role}-{user_id.hex[:8]}@bench.example", role)
    return {"Authorization": f"Bearer {token}"}


async def _check(response: httpx.Response, status: int = 200) -> dict:
    if response.status_code != status:
        raise BenchError(f"{response.request.url.path}: {response.status_code} {response.text[:300]}")
    return response.json()["data"]


async def _couriers(client, issuer, count: int) -> list[dict[str, str]]:
    made = []
    for _ in range(count):
        headers = _headers(issuer, "courier", uuid.uuid4())
        await _check(await client.post("/api/v1/parcels/couriers", headers=headers,
                                       json={"vehicle_type": "van", "vehicle_plate": "BENCH 1"}), 201)
        await _check(await client.post("/api/v1/parcels/couriers/me/online", headers=headers))
        made.append(headers)
    return made


async def _paid_shipment(client, issuer) -> str:
    headers = _headers(issuer, "customer", uuid.uuid4())
    order = await _check(await client.post("/api/v1/parcels/orders", headers=headers, json={
        "pickup_address": PICKUP, "dropoff_address": DROPOFF, "items": [ITEM]}), 201)
    paid = await _check(await client.post(f"/api/v1/parcels/orders/{order['id']}/pay", headers=headers))
    if paid["status"] != "paid":
        raise BenchError(f"order not paid: {paid['status']}")
    return order["shipment"]["id"]


async def _claims(client, issuer, profile: str, shipments: int, couriers: int) -> Result:
    racers = await _couriers(client, issuer, couriers)
    latencies: list[float] = []
    winners, errors, began = 0, 0, time.perf_counter()
    for _ in range(shipments):
        shipment = await _paid_shipment(client, issuer)

        async def claim(headers):
            start = time.perf_counter()
            response = await client.post(f"/api/v1/parcels/shipments/{shipment}/claim", headers=headers)
            latencies.append(time.perf_counter() - start)
            return response.status_code

        codes = await asyncio.gather(*(claim(h) for h in racers))
        winners += codes.count(200)
        errors += sum(1 for code in codes if code not in (200, 409))
        if codes.count(200) != 1:
            raise BenchError(f"shipment {shipment} had {codes.count(200)} winners")
    elapsed = time.perf_counter() - began
    figures = {"shipments": shipments, "couriers": couriers, "winners": winners, "errors": errors,
               "claims_per_s": round(len(latencies) / elapsed, 1),
               "p50_ms": _percentile(latencies, 0.5), "p99_ms": _percentile(latencies, 0.99)}
    return Result("parcels", profile, f"claim race: {couriers} couriers x {shipments} shipments",
                  figures, [Target("errors", 0)])


async def _ingest(runtime, client, issuer, profile: str, couriers: int, seconds: float) -> Result:
    racers = await _couriers(client, issuer, couriers)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()

    async def sender(index: int) -> None:
        nonlocal errors
        headers, step = racers[index % len(racers)], 0
        while time.perf_counter() < deadline:
            step += 1
            start = time.perf_counter()
            response = await client.post("/api/v1/parcels/couriers/me/location", headers=headers, json={
                "latitude": 3.1 + (index % 50) * 0.001, "longitude": 101.6 + step * 1e-5,
                "accuracy_m": 5})
            latencies.append(time.perf_counter() - start)
            errors += response.status_code != 200
            # no socket between client and app here: yield as a network round trip would, or
            # senders whose fixes never wait starve the ones whose first fix reads the database
            await asyncio.sleep(0)

    await asyncio.gather(*(sender(i) for i in range(64)))
    elapsed = time.perf_counter() - began
    stored = await runtime.context.live.flush()
    figures = {"fixes": len(latencies), "errors": errors,
               "fixes_per_s": round(len(latencies) / elapsed, 1),
               "p50_ms": _percentile(latencies, 0.5), "p99_ms": _percentile(latencies, 0.99),
               "last_batch_rows": stored}
    return Result("parcels", profile, f"telemetry ingest: {couriers} couriers, 64 senders",
                  figures, [Target("errors", 0), Target("fixes_per_s", 200, at_most=False)])
