"""The live progress panel and the final summary table of ``kilat simulate``."""

from __future__ import annotations

import asyncio

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from kilat.simulate.stats import Stats

BOOKING_ORDER = ("created", "accepted", "declined", "picked_up", "delivered", "completed",
                 "cancelled", "reviewed", "escrow_released", "shared", "watched")
VERTICAL_ORDER = {
    "rides": ("requests", "matches", "confirmed", "started", "arrived", "completed", "paid",
              "free_rides", "cancelled", "fares_idr"),
    "parcels": ("orders", "paid", "claimed", "claim_lost", "picked_up", "in_transit", "delivered",
                "cancelled"),
    "rail": ("searches", "search_empty", "holds", "hold_conflicts", "bookings", "verified",
             "paid", "ticketed", "tickets", "otp_skipped"),
}


def progress_view(stats: Stats, total_ticks: int) -> Group:
    head = Table.grid(padding=(0, 2))
    latency = stats.latency_ms()
    head.add_row(f"tick {stats.ticks}/{total_ticks}",
                 f"requests {sum(stats.requests.values())}",
                 f"pings/s {stats.pings_per_second():.1f}",
                 f"errors [{'red' if stats.error_count else 'green'}]{stats.error_count}[/]",
                 f"latency p50/p95/p99 {latency['p50']:.0f}/{latency['p95']:.0f}/"
                 f"{latency['p99']:.0f} ms")
    bookings = Table(title="bookings", show_edge=False)
    for name in BOOKING_ORDER:
        bookings.add_column(name.replace("_", " "), justify="right")
    bookings.add_row(*(str(stats.bookings.get(name, 0)) for name in BOOKING_ORDER))
    tables = [bookings] if stats.bookings or not stats.verticals else []
    for vertical, counts in stats.verticals.items():
        table = Table(title=vertical, show_edge=False)
        for name in VERTICAL_ORDER[vertical]:
            table.add_column(name.replace("_", " "), justify="right")
        table.add_row(*(str(counts.get(name, 0)) for name in VERTICAL_ORDER[vertical]))
        tables.append(table)
    return Group(head, *tables)


async def show_progress(stats: Stats, total_ticks: int, console: Console,
                        done: asyncio.Event) -> None:
    with Live(progress_view(stats, total_ticks), console=console, refresh_per_second=4,
              transient=True) as live:
        while not done.is_set():
            live.update(progress_view(stats, total_ticks))
            try:
                await asyncio.wait_for(done.wait(), 0.5)
            except TimeoutError:
                pass


def summary_table(summary: dict) -> Table:
    table = Table(title="simulation summary", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    config = summary["config"]
    people = ", ".join(f"{count} {role}" for role, count in config["people"].items())
    table.add_row("city", f"{people}; seed {config['seed']}, {summary['ticks']} ticks in "
                          f"{summary['elapsed_s']} s")
    if "pets" in config["verticals"]:
        for name in BOOKING_ORDER:
            table.add_row(f"bookings {name.replace('_', ' ')}",
                          str(summary["bookings"].get(name, 0)))
    for vertical, counts in summary["verticals"].items():
        for name in VERTICAL_ORDER[vertical]:
            table.add_row(f"{vertical} {name.replace('_', ' ')}", str(counts.get(name, 0)))
    for vertical, reason in summary["skipped"].items():
        table.add_row(f"{vertical} sat out", reason)
    table.add_row("requests", f"{summary['requests']} ({summary['requests_per_s']}/s)")
    latency = summary["latency_ms"]
    table.add_row("latency p50 / p95 / p99", f"{latency['p50']} / {latency['p95']} / {latency['p99']} ms")
    table.add_row("pings sent / accepted", f"{summary['pings_sent']} / {summary['pings_accepted']}")
    table.add_row("tracking frames seen", str(summary["tracking_frames_seen"]))
    table.add_row("errors", str(summary["errors"]))
    table.add_row("action digest (same seed, same actions)", summary["action_digest"])
    return table
