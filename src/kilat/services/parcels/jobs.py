"""Persisted background jobs (``background_jobs``): they survive restarts and run once across
instances. A scheduler turns each ``scheduled_jobs`` row that is due into a queued job (the row's
``next_run_at`` is moved with a conditional update, so one instance wins each run); workers take
queued jobs with a conditional update too, retry a failure with backoff up to ``max_attempts``,
and take over a job whose runner died once its lock has expired."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from kilat.platform.idempotency import purge_expired_keys
from kilat.platform.models import utcnow
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.parcels import partitions, reports
from kilat.services.parcels.models import (
    BackgroundJob,
    LocationEvent,
    LocationHourly,
    ScheduledJob,
    Shipment,
)
from kilat.services.parcels.repository import Jobs, Sessions

log = structlog.get_logger(__name__)

LOCK_SECONDS = 300
JOBS_KEPT_DAYS = 7  # completed jobs are kept this long for dashboards, failed ones until retried
SCHEDULE: dict[str, int] = {  # name -> every N seconds
    "daily_report": 3600,  # runs each hour; reports yesterday once (dedupe key)
    "partition_maintenance": 3600,
    "telemetry_rollup": 3600,
    "session_expiry": 30,
}


class JobRunner:
    def __init__(self, runtime, context) -> None:
        self.runtime = runtime
        self.context = context
        self.database = runtime.database
        self.settings = context.settings
        self.handlers: dict[str, Callable[[Any, BackgroundJob], Awaitable[dict]]] = {
            "daily_report": self._daily_report, "partition_maintenance": self._partitions,
            "telemetry_rollup": self._rollup, "session_expiry": self._sessions}

    async def run(self) -> None:
        while True:
            try:
                await self.schedule(utcnow())
                while await self.run_one(utcnow()):
                    pass
            except Exception as exc:
                stop_if_cancelled(exc)
                log.warning("parcels jobs loop failed", error=str(exc)[:300])
            await asyncio.sleep(self.settings.jobs_poll_seconds)

    async def enqueue(self, session, name: str, payload: dict | None = None,
                      dedupe_key: str | None = None, at: datetime | None = None) -> BackgroundJob | None:
        """A queued job; with ``dedupe_key`` at most one job of that key ever exists."""
        job = BackgroundJob(name=name, payload=payload or {}, dedupe_key=dedupe_key,
                            max_attempts=self.settings.job_max_attempts,
                            available_at=at or utcnow())
        try:
            async with session.begin_nested():
                session.add(job)
                await session.flush()
        except IntegrityError:
            return None
        return job

    async def schedule(self, now: datetime) -> int:
        queued = 0
        async with self.database.session() as session:
            known = set(await session.scalars(select(ScheduledJob.name)))
            for name, every in SCHEDULE.items():
                if name not in known:
                    try:
                        async with session.begin_nested():
                            session.add(ScheduledJob(name=name, interval_seconds=every,
                                                     next_run_at=now))
                            await session.flush()
                    except IntegrityError:
                        pass
        for name, every in SCHEDULE.items():
            async with self.database.session() as session:
                moved = await session.execute(
                    update(ScheduledJob).where(ScheduledJob.name == name,
                                               ScheduledJob.next_run_at <= now)
                    .values(next_run_at=now + timedelta(seconds=every), last_run_at=now)
                    .execution_options(synchronize_session=False))
                if moved.rowcount == 1:
                    queued += await self._queue_scheduled(session, name, now) is not None
        return queued

    async def _queue_scheduled(self, session, name: str, now: datetime):
        if name == "daily_report":
            day = (now - timedelta(days=1)).date()
            if now.hour < self.settings.report_hour_utc:
                return None
            return await self.enqueue(session, name, {"date": day.isoformat()},
                                      f"daily_report:{day.isoformat()}")
        return await self.enqueue(session, name, {}, f"{name}:{now:%Y%m%d%H%M%S}")

    async def run_one(self, now: datetime) -> bool:
        until = now + timedelta(seconds=LOCK_SECONDS)
        async with self.database.session() as session:
            jobs = Jobs(session)
            job_id = None
            for candidate in await jobs.due(now):
                if await jobs.take(candidate, now, until):
                    job_id = candidate
                    break
        if job_id is None:
            return False
        await self.execute(job_id)
        return True

    async def execute(self, job_id: uuid.UUID) -> None:
        async with self.database.session(write=False) as session:
            job = await Jobs(session).get(job_id)
        try:
            async with self.database.session() as session:
                result = await self.handlers[job.name](session, job)
        except Exception as exc:
            stop_if_cancelled(exc)
            await self._failed(job, exc)
            return
        async with self.database.session() as session:
            await session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(
                status="completed", result=result, finished_at=utcnow(), locked_until=None,
                last_error=None))

    async def _failed(self, job: BackgroundJob, exc: Exception) -> None:
        log.warning("parcels job failed", job=job.name, attempt=job.attempt, error=str(exc)[:300])
        last = job.attempt >= job.max_attempts
        async with self.database.session() as session:
            await session.execute(update(BackgroundJob).where(BackgroundJob.id == job.id).values(
                status="failed" if last else "queued", last_error=f"{type(exc).__name__}: {exc}"[:2000],
                locked_until=None, finished_at=utcnow() if last else None,
                available_at=utcnow() + timedelta(seconds=2 ** job.attempt)))

    async def retry(self, session, job_id: uuid.UUID) -> BackgroundJob | None:
        """Manual replay of a failed or completed job."""
        job = await Jobs(session).get(job_id)
        if job is None:
            return None
        job.status, job.attempt, job.available_at, job.locked_until = "queued", 0, utcnow(), None
        job.finished_at = None
        return job

    # --- the jobs ------------------------------------------------------------------------------

    async def _daily_report(self, session, job: BackgroundJob) -> dict:
        day = date.fromisoformat(job.payload["date"])
        report = await reports.generate(session, day, job.id, self.context.storage)
        return {"report_id": str(report.id), "cities": len(report.rows) - 1,
                "file_key": report.file_key}

    async def _partitions(self, session, job: BackgroundJob) -> dict:
        purged = await purge_expired_keys(session)
        await session.execute(delete(BackgroundJob).where(
            BackgroundJob.status == "completed",
            BackgroundJob.finished_at < utcnow() - timedelta(days=JOBS_KEPT_DAYS)))
        if session.get_bind().dialect.name != "postgresql":
            cutoff = utcnow() - timedelta(days=self.settings.telemetry_retention_days)
            gone = await session.execute(delete(LocationEvent).where(LocationEvent.recorded_at < cutoff))
            return {"deleted_fixes": gone.rowcount or 0, "idempotency_keys_purged": purged}
        today = utcnow().date()
        before = today - timedelta(days=self.settings.telemetry_retention_days)
        created, dropped = await session.run_sync(lambda s: (
            partitions.ensure_partitions(s.connection(), today, self.settings.partitions_ahead_days),
            partitions.drop_expired(s.connection(), "courier_location_events", before)))
        return {"created": created, "dropped": dropped, "idempotency_keys_purged": purged}

    async def _rollup(self, session, job: BackgroundJob) -> dict:
        """Hourly rollup of the last two full hours (re-run safe: rows are replaced)."""
        end = utcnow().replace(minute=0, second=0, microsecond=0)
        return {"rows": await rollup(session, end - timedelta(hours=2), end)}

    async def _sessions(self, session, job: BackgroundJob) -> dict:
        now = utcnow()
        closed = 0
        live = self.context.live
        for tracking in await Sessions(session).expired(now):
            tracking.closed_at = now
            number = await session.scalar(select(Shipment.tracking_number).where(
                Shipment.order_id == tracking.order_id))
            await live.revoke(number, str(tracking.session_token))
            closed += 1
        return {"closed": closed}


async def rollup(session, start: datetime, end: datetime) -> int:
    hour = func.strftime("%Y-%m-%d %H:00:00", LocationEvent.recorded_at) \
        if session.get_bind().dialect.name == "sqlite" \
        else func.date_trunc("hour", LocationEvent.recorded_at)
    rows = (await session.execute(
        select(LocationEvent.courier_id, hour.label("hour"), func.count(),
               func.min(LocationEvent.recorded_at), func.max(LocationEvent.recorded_at),
               func.min(LocationEvent.latitude), func.max(LocationEvent.latitude),
               func.min(LocationEvent.longitude), func.max(LocationEvent.longitude))
        .where(LocationEvent.recorded_at >= start, LocationEvent.recorded_at < end)
        .group_by(LocationEvent.courier_id, hour))).all()
    await session.execute(delete(LocationHourly).where(LocationHourly.hour >= start,
                                                       LocationHourly.hour < end))
    for row in rows:
        first = row[3]
        session.add(LocationHourly(
            courier_id=row[0], hour=first.replace(minute=0, second=0, microsecond=0), fixes=row[2],
            first_at=first, last_at=row[4], min_latitude=row[5], max_latitude=row[6],
            min_longitude=row[7], max_longitude=row[8]))
    await session.flush()
    return len(rows)
