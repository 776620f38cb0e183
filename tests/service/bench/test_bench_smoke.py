"""Every scenario of `kilat bench` runs in a tiny configuration against the embedded profile.

These prove the harness works (a platform starts, load flows, figures come back, nothing fails);
the real figures come from a full `kilat bench` run, never from a timed test.
"""

from kilat.bench import SCENARIOS, run_benchmarks


async def test_every_scenario_runs_tiny_on_the_embedded_profile_without_errors():
    report = await run_benchmarks(list(SCENARIOS), "embedded", quick=True)

    assert report.skipped == []
    by_scenario = {}
    for result in report.results:
        by_scenario.setdefault(result.scenario, []).append(result)
        assert result.profile == "embedded"
        assert result.figures["errors"] == 0, (result.scenario, result.case, result.figures)
    assert set(by_scenario) == set(SCENARIOS)
    for name in ("bare", "read", "journey", "ingest", "fanout", "nearby"):
        assert all(r.figures["throughput_per_s"] > 0 for r in by_scenario[name]), name
        assert all(r.figures["p99_ms"] >= r.figures["p50_ms"] > 0 for r in by_scenario[name]), name
    journey = by_scenario["journey"][0].figures
    assert journey["journeys"] > 0 and journey["events_consumed"] > 0
    by_consumer = journey["event_ms_by_consumer"]
    assert {"booking", "payment", "notification"} <= set(by_consumer)
    assert sum(c["events"] for c in by_consumer.values()) == journey["events_consumed"]
    assert [r.case.split(",")[0] for r in by_scenario["ingest"]] == [
        "HTTP", "HTTP batched (50 fixes)", "WebSocket"]
    bare = by_scenario["bare"][0].figures
    assert report.results.index(by_scenario["bare"][0]) < report.results.index(by_scenario["read"][0])
    for http in (by_scenario["read"][0], *by_scenario["ingest"][:2]):
        ratio = http.figures["ratio_to_bare"]
        assert ratio["throughput_per_s"] == round(http.figures["throughput_per_s"] / bare["throughput_per_s"], 4)
        assert set(ratio) == {"throughput_per_s", "p50_ms", "p99_ms", "platform_cpu_ms_per_request"}
    assert "ratio_to_bare" not in by_scenario["ingest"][2].figures  # WebSocket frames
    startup = by_scenario["startup"][0].figures
    assert startup["started_in_s"] > 0 and startup["platform_rss_mb"] > 50
    data = report.as_dict()
    assert data["machine"]["nproc"] >= 1 and len(data["results"]) == len(report.results)
