"""Targets, verdicts, scenario plans and the machine description of a report."""

import json

import pytest
from typer.testing import CliRunner

from kilat.bench import BenchError, plan
from kilat.bench.results import Report, Result, Target
from kilat.cli import app


def test_a_result_meets_its_targets_only_when_every_figure_does():
    targets = [Target("throughput_per_s", 100, at_most=False), Target("p99_ms", 50)]
    assert Result("read", "embedded", "c", {"throughput_per_s": 150, "p99_ms": 20}, targets).verdict == "met"
    assert Result("read", "embedded", "c", {"throughput_per_s": 150, "p99_ms": 80}, targets).verdict == "missed"
    assert Result("read", "embedded", "c", {"p99_ms": 20}, targets).verdict == "n/a"
    assert Result("read", "embedded", "c", {}, []).verdict == "-"
    assert str(targets[0]) == "throughput_per_s ≥ 100"


def test_the_report_carries_the_machine_its_load_and_every_result():
    report = Report()
    report.add(Result("startup", "embedded", "fresh", {"started_in_s": 1.2}, [Target("started_in_s", 3)]))
    data = json.loads(report.to_json())
    assert data["machine"]["nproc"] >= 1 and data["machine"]["cpu_model"]
    assert len(data["machine"]["load_average"]) == 3 and data["machine"]["python"]
    assert data["results"][0]["verdict"] == "met" and data["results"][0]["started_in_s"] == 1.2


def test_plan_keeps_the_canonical_order_and_refuses_unknown_names():
    assert plan(["nearby", "read"], "both") == (["read", "nearby"], ["embedded", "distributed"])
    assert plan(["read", "bare"], "embedded")[0] == ["bare", "read"]
    assert plan([], "embedded")[0][0] == "startup"
    with pytest.raises(BenchError, match="unknown scenario"):
        plan(["reed"], "both")
    with pytest.raises(BenchError, match="unknown profile"):
        plan([], "cloud")


def test_cli_rejects_an_unknown_scenario_with_exit_code_2():
    result = CliRunner().invoke(app, ["bench", "reed"])
    assert result.exit_code == 2
    assert "unknown scenario" in result.output


def test_a_saved_run_prints_as_a_markdown_table(tmp_path):
    report = Report()
    report.add(Result("bare", "embedded", "64 connections", {"throughput_per_s": 16250.0, "p50_ms": 4.0,
                                                           "p99_ms": 9.0, "errors": 0}))
    report.add(Result("read", "embedded", "64 connections", {"throughput_per_s": 812.5, "p50_ms": 40.0,
                                                           "p95_ms": 61.2, "p99_ms": 75.0, "errors": 0},
                      [Target("throughput_per_s", 6000, at_most=False), Target("p99_ms", 50)], http=True))
    report.add(Result("startup", "embedded", "fresh data dir", {"started_in_s": 2.4}, [Target("started_in_s", 3)]))
    saved = tmp_path / "run.json"
    saved.write_text(report.to_json())
    printed = CliRunner().invoke(app, ["bench", "--markdown", str(saved)])
    assert printed.exit_code == 0
    lines = printed.output.splitlines()
    assert lines[0].startswith("| scenario | profile | case | per s | ÷ bare | start s | p50 ms | p95 ms |")
    assert lines[2].startswith("| bare | embedded | 64 connections | 16,250.0 |  |  | 4.0 |")
    assert lines[3] == ("| read | embedded | 64 connections | 812.5 | 0.050 |  | 40.0 | 61.2 | 75.0 | 0 |  |  | "
                        "throughput_per_s ≥ 6000, p99_ms < 50 | missed |")
    assert lines[4].startswith("| startup | embedded | fresh data dir |  |  | 2.4 |") and lines[4].endswith("| met |")
