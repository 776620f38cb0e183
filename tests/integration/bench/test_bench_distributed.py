"""The distributed launcher of `kilat bench`: its own databases, stream and ports, removed after."""

import asyncpg

from kilat.bench import run_benchmarks
from kilat.bench.platform import POSTGRES_URL
from tests.support.harness import require_nats, require_postgres, require_redis


async def database_names() -> set[str]:
    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", "") + "/postgres")
    try:
        return {row["datname"] for row in await connection.fetch("SELECT datname FROM pg_database")}
    finally:
        await connection.close()


async def test_read_and_journey_run_tiny_on_the_distributed_profile_and_clean_up():
    require_postgres()
    require_redis()
    require_nats()
    before = await database_names()

    report = await run_benchmarks(["read", "journey"], "distributed", quick=True)

    assert report.skipped == []
    # the bare baseline runs first whenever an HTTP scenario runs
    assert [r.scenario for r in report.results] == ["bare", "read", "journey"]
    bare, read, journey = report.results
    assert bare.figures["errors"] == 0 and bare.figures["throughput_per_s"] > 0
    for result in (read, journey):
        assert result.figures["errors"] == 0, result.figures
        assert result.figures["throughput_per_s"] > 0
        assert result.figures["platform_processes"] >= 9
    assert read.figures["ratio_to_bare"]["throughput_per_s"] > 0
    assert journey.figures["events_consumed"] > 0
    assert {name for name in await database_names() - before if name.startswith("bench")} == set()
