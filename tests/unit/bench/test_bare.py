"""The bare baseline: its ASGI app, and every HTTP result reported as a ratio to it."""

import httpx

from kilat.bench import bare
from kilat.bench.results import Report, Result, ratios

BARE = {"throughput_per_s": 8000.0, "p50_ms": 1.0, "p99_ms": 4.0, "errors": 0, "platform_cpu_percent": 80.0}
READ = {"throughput_per_s": 400.0, "p50_ms": 30.0, "p99_ms": 60.0, "errors": 0, "platform_cpu_percent": 100.0}


async def test_the_bare_app_answers_a_small_json_body_to_any_request():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare.app), base_url="http://t") as client:
        answer = await client.get("/anything")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"success": True, "data": {"ok": True}}


async def test_the_bare_app_completes_the_lifespan_the_server_runs():
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    await bare.app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_ratios_divide_throughput_and_latencies_by_the_bare_figures():
    assert ratios(READ, BARE) == {"throughput_per_s": 0.05, "p50_ms": 30.0, "p99_ms": 15.0}
    assert ratios(READ | {"platform_cpu_ms_per_request": 2.5},
                  BARE | {"platform_cpu_ms_per_request": 0.1})["platform_cpu_ms_per_request"] == 25.0
    assert ratios({"throughput_per_s": 10.0}, {"throughput_per_s": 0.0}) == {}


def test_an_http_result_gains_its_profiles_bare_ratio_and_others_do_not():
    report = Report()
    report.add(Result("bare", "embedded", "64 connections", dict(BARE)))
    report.add(Result("read", "embedded", "64 connections", dict(READ), http=True))
    report.add(Result("ingest", "embedded", "WebSocket", dict(READ)))
    report.add(Result("read", "distributed", "64 connections", dict(READ), http=True))
    read, socket, other_profile = (r.as_dict() for r in report.results[1:])
    assert report.results[0].figures["platform_cpu_ms_per_request"] == 0.1
    assert read["platform_cpu_ms_per_request"] == 2.5
    assert read["ratio_to_bare"] == {"throughput_per_s": 0.05, "p50_ms": 30.0, "p99_ms": 15.0,
                                     "platform_cpu_ms_per_request": 25.0}
    assert "ratio_to_bare" not in socket and "ratio_to_bare" not in other_profile
