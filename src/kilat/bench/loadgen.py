"""A lean HTTP/1.1 keep-alive load generator on raw asyncio streams.

httpx costs about 0.3 ms of CPU per request here, so on two cores it would measure itself rather
than the platform; this client writes prepared request bytes and parses only the status line and
Content-Length, which costs a few microseconds. Each connection runs a closed loop (send, wait
for the answer, send again), so the number of connections is the concurrency.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from kilat.simulate.stats import percentile

RequestMaker = Callable[[int, int], bytes]  # (connection index, sequence) -> request bytes
Checker = Callable[[int, bytes], bool]  # (status, body) -> counts as success


def build_request(method: str, path: str, *, host: str = "127.0.0.1", token: str | None = None,
                  body: object = None) -> bytes:
    payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def success(status: int, _body: bytes) -> bool:
    return 200 <= status < 300


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    client_cpu_percent: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def figures(self) -> dict:
        return {"throughput_per_s": round(self.throughput, 1),
                "p50_ms": round(percentile(self.latencies_ms, 50), 2),
                "p95_ms": round(percentile(self.latencies_ms, 95), 2),
                "p99_ms": round(percentile(self.latencies_ms, 99), 2),
                "requests": self.requests, "errors": self.errors,
                "load_generator_cpu_percent": round(self.client_cpu_percent, 1)}


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked = 0, False
        for line in head.split(b"\r\n")[1:]:
            name = line[:18].lower()
            if name.startswith(b"content-length:"):
                length = int(line[15:])
            elif name.startswith(b"transfer-encoding:") and b"chunked" in line.lower():
                chunked = True
        if chunked:
            return status, await self._chunks()
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    async def _chunks(self) -> bytes:
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        await self.reader.readuntil(b"\r\n")
        return b"".join(parts)

    def close(self) -> None:
        self.writer.close()


async def closed_loop(host: str, port: int, connections: int, seconds: float,
                      make_request: RequestMaker, check: Checker = success,
                      warmup_seconds: float = 0.5) -> LoadResult:
    """``connections`` keep-alive connections, each sending as soon as it has its answer."""
    result = LoadResult()
    process = psutil.Process()
    open_connections = [await Connection.open(host, port) for _ in range(connections)]
    started = time.perf_counter()
    measure_from = started + warmup_seconds
    stop_at = measure_from + seconds
    cpu_before = None

    async def worker(index: int, connection: Connection) -> None:
        sequence = 0
        while (now := time.perf_counter()) < stop_at:
            began = now
            try:
                status, body = await connection.exchange(make_request(index, sequence))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                result.errors += 1
                _sample(result, f"{type(exc).__name__}: {exc}")
                connection = await Connection.open(host, port)
                continue
            sequence += 1
            if began < measure_from:
                continue
            result.requests += 1
            result.latencies_ms.append((time.perf_counter() - began) * 1000)
            if not check(status, body):
                result.errors += 1
                _sample(result, f"{status} {body[:160]!r}")

    tasks = [asyncio.create_task(worker(i, c)) for i, c in enumerate(open_connections)]
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_before = process.cpu_times()
    await asyncio.gather(*tasks)
    cpu_after = process.cpu_times()
    result.seconds = time.perf_counter() - measure_from
    used = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    result.client_cpu_percent = 100 * used / result.seconds if result.seconds else 0.0
    for connection in open_connections:
        connection.close()
    return result


def _sample(result: LoadResult, text: str) -> None:
    if len(result.error_samples) < 5:
        result.error_samples.append(text)
