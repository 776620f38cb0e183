"""The bare case serves its endpoint in its own uvicorn process and measures it like ``read``."""

from types import SimpleNamespace

import psutil

from kilat.bench import bare


async def test_the_bare_case_measures_its_own_server_process_and_stops_it():
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    [result] = await bare.run(SimpleNamespace(profile="embedded"), quick=True)

    figures = result.figures
    assert (result.scenario, result.profile, result.case) == ("bare", "embedded", "8 connections, 1 s")
    assert figures["errors"] == 0 and figures["requests"] > 100
    assert figures["p99_ms"] >= figures["p50_ms"] > 0
    assert figures["platform_processes"] == 1 and figures["platform_cpu_percent"] > 0
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before
