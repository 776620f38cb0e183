"""Benchmark results, their targets, the machine they ran on, and the printed table."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
from rich.table import Table


@dataclass(frozen=True)
class Target:
    """One figure a scenario must reach: ``metric`` at most (or at least) ``value``."""

    metric: str
    value: float
    at_most: bool = True

    def met(self, figures: dict) -> bool | None:
        actual = figures.get(self.metric)
        if actual is None:
            return None
        return actual <= self.value if self.at_most else actual >= self.value

    def __str__(self) -> str:
        return f"{self.metric} {'<' if self.at_most else '≥'} {self.value:g}"


RATIO_FIGURES = ("throughput_per_s", "p50_ms", "p99_ms", "platform_cpu_ms_per_request")


def ratios(figures: dict, bare: dict) -> dict:
    """Each of ``RATIO_FIGURES`` divided by the bare endpoint's, measured in the same run:
    throughput below 1, latencies and CPU per request above 1 are the platform's cost over
    the server it runs on."""
    return {key: round(figures[key] / bare[key], 4) for key in RATIO_FIGURES
            if figures.get(key) and bare.get(key)}


@dataclass
class Result:
    scenario: str
    profile: str
    case: str
    figures: dict
    targets: list[Target] = field(default_factory=list)
    http: bool = False  # closed-loop HTTP requests: reported also as ``ratio_to_bare``

    @property
    def verdict(self) -> str:
        checks = [target.met(self.figures) for target in self.targets]
        if not checks:
            return "-"
        if None in checks:
            return "n/a"
        return "met" if all(checks) else "missed"

    def as_dict(self) -> dict:
        return {"scenario": self.scenario, "profile": self.profile, "case": self.case,
                **self.figures, "targets": [str(t) for t in self.targets], "verdict": self.verdict}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    memory = psutil.virtual_memory()
    return {"nproc": os.cpu_count(), "memory_gb": round(memory.total / 2**30, 1),
            "cpu_model": cpu_model(), "python": sys.version.split()[0],
            "platform": platform.platform(), "load_average": [round(x, 2) for x in os.getloadavg()]}


@dataclass
class Report:
    quick: bool = False
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    machine_before: dict = field(default_factory=machine)
    results: list[Result] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    began: float = field(default_factory=time.monotonic)

    def add(self, result: Result) -> None:
        """Keep ``result``; an HTTP one gains ``ratio_to_bare`` when its profile's bare case ran."""
        figures = result.figures
        if (result.http or result.scenario == "bare") and figures.get("throughput_per_s") \
                and "platform_cpu_percent" in figures:
            # % of one core over requests/s: the server's CPU per request, however loaded it was
            figures["platform_cpu_ms_per_request"] = round(
                10 * figures["platform_cpu_percent"] / figures["throughput_per_s"], 4)
        bare = self.bare(result.profile)
        if result.http and bare is not None:
            result.figures["ratio_to_bare"] = ratios(result.figures, bare.figures)
        self.results.append(result)

    def bare(self, profile: str) -> Result | None:
        return next((r for r in reversed(self.results)
                     if r.scenario == "bare" and r.profile == profile), None)

    def as_dict(self) -> dict:
        return {"started_at": self.started_at, "quick": self.quick,
                "duration_s": round(time.monotonic() - self.began, 1),
                "machine": self.machine_before,
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "results": [r.as_dict() for r in self.results], "skipped": self.skipped}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    def table(self) -> Table:
        table = Table(title="kilat bench", show_lines=False)
        for column in ("scenario", "profile", "case", "per s", "÷ bare", "p50 ms", "p99 ms", "errors",
                       "CPU %", "RSS MB", "verdict"):
            table.add_column(column, justify="left" if column in ("scenario", "profile", "case")
                             else "right")
        for r in self.results:
            f = r.figures
            table.add_row(r.scenario, r.profile, r.case, _num(f.get("throughput_per_s")),
                          _ratio(f.get("ratio_to_bare", {}).get("throughput_per_s")),
                          _num(f.get("p50_ms")), _num(f.get("p99_ms")), _num(f.get("errors")),
                          _num(f.get("platform_cpu_percent")), _num(f.get("platform_rss_mb")),
                          {"met": "[green]met[/]", "missed": "[red]missed[/]"}.get(r.verdict, r.verdict))
        return table


def _ratio(value) -> str:
    return "" if value is None else f"{value:.3f}"


def _num(value) -> str:
    if value is None:
        return ""
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


MARKDOWN_COLUMNS = (("scenario", "scenario"), ("profile", "profile"), ("case", "case"),
                    ("throughput_per_s", "per s"), ("ratio_to_bare", "÷ bare"), ("started_in_s", "start s"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"),
                    ("p99_ms", "p99 ms"), ("errors", "errors"), ("platform_cpu_percent", "CPU %"),
                    ("platform_rss_mb", "RSS MB"), ("targets", "target"), ("verdict", "verdict"))


def markdown_table(report: dict) -> str:
    """The results of a saved report (``kilat bench --json``) as a Markdown table, for the docs."""
    lines = ["| " + " | ".join(title for _, title in MARKDOWN_COLUMNS) + " |",
             "|" + "|".join("---" if key in ("scenario", "profile", "case", "targets") else "---:"
                            for key, _ in MARKDOWN_COLUMNS) + "|"]
    for result in report["results"]:
        cells = []
        for key, _ in MARKDOWN_COLUMNS:
            value = result.get(key)
            if isinstance(value, dict):  # ratio_to_bare: its throughput ratio
                cells.append(_ratio(value.get("throughput_per_s")))
            elif isinstance(value, list):
                cells.append(", ".join(map(str, value)))
            else:
                cells.append(value if isinstance(value, str) else _num(value))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"

