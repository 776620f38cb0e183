"""The matching benchmark runs (quick) and reports request-to-offer latencies."""

from kilat.bench import SCENARIOS
from kilat.bench.rides import run


async def test_the_rides_benchmark_measures_request_to_offers():
    assert "rides" in SCENARIOS
    [result] = await run("embedded", quick=True)
    assert result.figures["errors"] == 0
    assert result.figures["requests"] == 40
    assert 0 < result.figures["p50_ms"] <= result.figures["p99_ms"]
    assert result.figures["offers_per_request"] > 1  # 500 drivers over Jakarta: a few nearby
