"""The daily dispatch report: per city, and for all cities (``city = "*"``).

orders: shipments paid (opened for dispatch) that day; delivered / failed: shipments that reached
that state that day; on_time_percent: of those delivered, delivered by the promised time;
median_pickup_minutes: assigned -> picked up, of shipments picked up that day;
median_delivery_minutes: picked up -> delivered, of shipments delivered that day;
couriers_active: couriers with an assignment that day; couriers_online (all-cities row):
couriers who went online that day or worked; utilisation: active / online.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from kilat.platform.models import utcnow
from kilat.platform.storage import BlobStorage
from kilat.platform.repository import Repository
from kilat.services.parcels import domain
from kilat.services.parcels.models import (
    Assignment,
    CourierShift,
    DispatchReport,
    ReportRun,
    Shipment,
)

COLUMNS = ("city", "orders", "delivered", "failed", "on_time_percent", "median_pickup_minutes",
           "median_delivery_minutes", "couriers_online", "couriers_active",
           "courier_utilisation_percent")
ALL = "*"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


class ReportQueries(Repository[DispatchReport]):
    model, entity = DispatchReport, "Report"

    async def shipments_touching(self, start: datetime, end: datetime) -> list[Shipment]:
        columns = (Shipment.offered_at, Shipment.picked_up_at, Shipment.delivered_at,
                   Shipment.failed_at, Shipment.assigned_at)
        return list(await self.session.scalars(select(Shipment).where(
            or_(*[column.between(start, end - timedelta(microseconds=1)) for column in columns]))))

    async def couriers_online(self, start: datetime, end: datetime) -> set[uuid.UUID]:
        rows = await self.session.scalars(select(CourierShift.courier_id).where(
            CourierShift.kind == "online", CourierShift.at >= start, CourierShift.at < end))
        return set(rows)

    async def assigned_couriers(self, start: datetime, end: datetime) -> set[tuple[uuid.UUID, uuid.UUID]]:
        rows = await self.session.execute(select(Assignment.courier_id, Assignment.shipment_id)
                                          .where(Assignment.created_at >= start,
                                                 Assignment.created_at < end))
        return {(row[0], row[1]) for row in rows}

    async def report(self, day: date, kind: str = "daily") -> DispatchReport | None:
        return await self.session.scalar(select(DispatchReport).where(
            DispatchReport.report_date == day, DispatchReport.kind == kind))


def _within(value: datetime | None, start: datetime, end: datetime) -> bool:
    return value is not None and start <= value < end


def _minutes(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds() / 60


def compute(shipments: list[Shipment], assigned: set[tuple[uuid.UUID, uuid.UUID]],
            online: set[uuid.UUID], start: datetime, end: datetime) -> list[dict[str, Any]]:
    by_city: dict[str, list[Shipment]] = defaultdict(list)
    city_of = {}
    for shipment in shipments:
        by_city[shipment.city or "unknown"].append(shipment)
        city_of[shipment.id] = shipment.city or "unknown"
    active_by_city: dict[str, set[uuid.UUID]] = defaultdict(set)
    for courier_id, shipment_id in assigned:
        active_by_city[city_of.get(shipment_id, "unknown")].add(courier_id)
    rows = [_row(city, group, active_by_city[city], None, start, end)
            for city, group in sorted(by_city.items())]
    everyone = {courier for courier, _ in assigned}
    rows.append(_row(ALL, shipments, everyone, online | everyone, start, end))
    return rows


def _row(city: str, group: list[Shipment], active: set[uuid.UUID], online: set[uuid.UUID] | None,
         start: datetime, end: datetime) -> dict[str, Any]:
    delivered = [s for s in group if _within(s.delivered_at, start, end)]
    on_time = [s for s in delivered if s.delivered_at <= s.promised_at]
    picked = [m for s in group if _within(s.picked_up_at, start, end)
              if (m := _minutes(s.picked_up_at, s.assigned_at)) is not None]
    carried = [m for s in delivered if (m := _minutes(s.delivered_at, s.picked_up_at)) is not None]
    return {
        "city": city,
        "orders": sum(1 for s in group if _within(s.offered_at, start, end)),
        "delivered": len(delivered),
        "failed": sum(1 for s in group if _within(s.failed_at, start, end)),
        "on_time_percent": domain.percent(len(on_time), len(delivered)),
        "median_pickup_minutes": domain.median(picked),
        "median_delivery_minutes": domain.median(carried),
        "couriers_online": None if online is None else len(online),
        "couriers_active": len(active),
        "courier_utilisation_percent": None if online is None
        else domain.percent(len(active), len(online)),
    }


async def generate(session, day: date, job_id: uuid.UUID | None = None,
                   storage: BlobStorage | None = None) -> DispatchReport:
    """Compute and store (or refresh) the day's report and its CSV file, with a report run."""
    queries = ReportQueries(session)
    report = await queries.report(day)
    if report is None:
        try:
            async with session.begin_nested():
                report = DispatchReport(report_date=day, kind="daily", status="running", rows=[])
                session.add(report)
                await session.flush()
        except IntegrityError:
            report = await queries.report(day)
    started = utcnow()
    start, end = day_bounds(day)
    rows = compute(await queries.shipments_touching(start, end),
                   await queries.assigned_couriers(start, end),
                   await queries.couriers_online(start, end), start, end)
    report.rows, report.status, report.generated_at = rows, "succeeded", utcnow()
    if storage is not None:
        report.file_key = f"parcels-reports/daily-{day.isoformat()}.csv"
        await storage.put(report.file_key, as_csv(rows).encode(), "text/csv")
    session.add(ReportRun(report_id=report.id, job_id=job_id, status="succeeded",
                          started_at=started, finished_at=utcnow(),
                          metrics={"cities": len(rows) - 1}))
    await session.flush()
    return report


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in COLUMNS})
    return out.getvalue()
