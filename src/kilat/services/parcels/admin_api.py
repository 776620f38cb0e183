"""Parcels admin routes: assignment, audit log, flags, settings, jobs, reports, ads, GDPR erase."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from kilat.platform.auth import RequireRole
from kilat.platform.errors import Unprocessable, not_found
from kilat.platform.http import Session
from kilat.platform.models import utcnow
from kilat.platform.schemas import Envelope, Page, Paging, error_responses, ok, page_of
from kilat.services.parcels import reports, schemas
from kilat.services.parcels.ads import AdService
from kilat.services.parcels.audit import Actor, audit
from kilat.services.parcels.context import Ctx
from kilat.services.parcels.customers import CustomerService
from kilat.services.parcels.models import FeatureFlag, SystemSetting
from kilat.services.parcels.outputs import shipment_out
from kilat.services.parcels.repository import Audits, Jobs, Ops
from kilat.services.parcels.shipments import ShipmentService

Admin = RequireRole("admin")
router = APIRouter(prefix="/api/v1/parcels/admin", tags=["parcels admin"])



def admin_actor(request: Request, user: Admin) -> Actor:
    return Actor.of(user, request)


Who = Annotated[Actor, Depends(admin_actor)]


@router.post("/shipments/{shipment_id}/assign", response_model=Envelope[schemas.Shipment],
             responses=error_responses(400, 401, 403, 404, 409, 422))
async def assign_shipment(shipment_id: uuid.UUID, body: schemas.AssignIn, session: Session,
                          context: Ctx, who: Who) -> dict:
    """Assign a courier; a shipment with an open assignment is never overwritten (409)."""
    shipment = await ShipmentService(session, context).assign(shipment_id, body.courier_id, who)
    return ok(await shipment_out(session, shipment))


@router.get("/audit", response_model=Page[schemas.AuditEntry], responses=error_responses(400, 401, 403))
async def audit_log(session: Session, _who: Who, paging: Paging,
                    table: Annotated[str | None, Query(max_length=40)] = None,
                    target_id: Annotated[str | None, Query(max_length=64)] = None,
                    actor_id: uuid.UUID | None = None) -> dict:
    repo = Audits(session)
    rows, total = await repo.paginate(repo.search(table, target_id, actor_id), paging)
    return page_of([schemas.AuditEntry.model_validate(r) for r in rows], total, paging)


@router.get("/flags", response_model=Envelope[list[schemas.Flag]], responses=error_responses(400, 401, 403))
async def list_flags(session: Session, _who: Who) -> dict:
    rows = await Ops(session).flags()
    return ok([schemas.Flag.model_validate(r) for r in rows])


# a flag's or setting's name: an identifier, as code reads it (dispatch.radius_km, new_pricing)
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_.-]{0,59}$",
                          description="lower-case letters, digits, '_', '.', '-'; a letter first")]


@router.put("/flags/{key}", response_model=Envelope[schemas.Flag],
            responses=error_responses(400, 401, 403, 422))
async def put_flag(key: Key, body: schemas.FlagIn, session: Session,
                   who: Who) -> dict:
    flag = await _upsert(session, FeatureFlag, key, enabled=body.enabled,
                         conditions=body.conditions, description=body.description)
    audit(session, who, "flag.set", "feature_flags", key, body.model_dump())
    return ok(schemas.Flag.model_validate(flag))


@router.get("/settings", response_model=Envelope[list[schemas.Setting]],
            responses=error_responses(400, 401, 403))
async def list_settings(session: Session, _who: Who) -> dict:
    rows = await Ops(session).settings()
    return ok([schemas.Setting.model_validate(r) for r in rows])


@router.put("/settings/{key}", response_model=Envelope[schemas.Setting],
            responses=error_responses(400, 401, 403, 422))
async def put_setting(key: Key, body: schemas.SettingIn, session: Session, who: Who) -> dict:
    setting = await _upsert(session, SystemSetting, key, value=body.value)
    audit(session, who, "setting.set", "system_settings", key, {"value": body.value})
    return ok(schemas.Setting.model_validate(setting))


async def _upsert(session, model, key: str, **values):
    if not 1 <= len(key) <= 60 or not key.replace("_", "").replace(".", "").isalnum():
        raise Unprocessable("invalid key", "1-60 letters, digits, '_' or '.'")
    row = await session.get(model, key)
    if row is None:
        row = model(key=key, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    row.updated_at = utcnow()
    await session.flush()
    return row


@router.get("/jobs", response_model=Page[schemas.JobOut], responses=error_responses(400, 401, 403))
async def list_jobs(session: Session, _who: Who, paging: Paging,
                    status: Annotated[str | None, Query(max_length=12)] = None,
                    name: Annotated[str | None, Query(max_length=60)] = None) -> dict:
    repo = Jobs(session)
    rows, total = await repo.paginate(repo.listing(status, name), paging)
    return page_of([schemas.JobOut.model_validate(r) for r in rows], total, paging)


@router.post("/jobs/{job_id}/retry", response_model=Envelope[schemas.JobOut],
             responses=error_responses(400, 401, 403, 404))
async def retry_job(job_id: uuid.UUID, session: Session, context: Ctx, who: Who) -> dict:
    """Manual replay of a job (failed or completed)."""
    job = await context.jobs.retry(session, job_id)
    if job is None:
        raise not_found("Job", job_id)
    audit(session, who, "job.retry", "background_jobs", job_id, {"status": "queued"})
    await session.flush()
    return ok(schemas.JobOut.model_validate(job))


@router.post("/reports", status_code=201, response_model=Envelope[schemas.Report],
             responses=error_responses(400, 401, 403, 422))
async def generate_report(body: schemas.ReportRequest, session: Session, context: Ctx,
                          who: Who) -> dict:
    """Generate (or refresh) a day's dispatch report and its CSV file now, as the job does."""
    report = await reports.generate(session, body.date, storage=context.storage)
    audit(session, who, "report.generate", "dispatch_reports", report.id,
          {"report_date": body.date})
    return ok(schemas.Report.model_validate(report))


@router.get("/reports", response_model=Envelope[schemas.Report],
            responses={200: {"content": {"text/csv": {}}}, **error_responses(400, 401, 403, 404)})
async def get_report(session: Session, _who: Who, date: date,
                     format: Literal["json", "csv"] = "json") -> Response | dict:
    """The day's dispatch report, as JSON or CSV (``format=csv``)."""
    report = await reports.ReportQueries(session).report(date)
    if report is None:
        raise not_found("Report", date)
    if format == "csv":
        return PlainTextResponse(reports.as_csv(report.rows), media_type="text/csv",
                                 headers={"Content-Disposition":
                                          f'attachment; filename="dispatch-{date}.csv"'})
    return ok(schemas.Report.model_validate(report))


@router.post("/customers/{customer_id}/erase", response_model=Envelope[schemas.Erased],
             responses=error_responses(400, 401, 403, 404))
async def erase_customer(customer_id: uuid.UUID, session: Session, context: Ctx,
                         who: Who) -> dict:
    """GDPR: anonymise the customer; orders, money and report totals are kept."""
    return ok(await CustomerService(session, context).erase(customer_id, who))


@router.get("/ads", response_model=Envelope[list[schemas.Ad]], responses=error_responses(400, 401, 403))
async def list_ads(session: Session, _who: Who) -> dict:
    rows = await Ops(session).ads()
    return ok([schemas.Ad.model_validate(r) for r in rows])


@router.post("/ads", status_code=201, response_model=Envelope[schemas.Ad],
             responses=error_responses(400, 401, 403, 422))
async def create_ad(body: schemas.AdCreate, session: Session, who: Who) -> dict:
    return ok(schemas.Ad.model_validate(await AdService(session).create(body, who)))


@router.patch("/ads/{ad_id}", response_model=Envelope[schemas.Ad],
              responses=error_responses(400, 401, 403, 404, 409, 422))
async def update_ad(ad_id: uuid.UUID, body: schemas.AdUpdate, session: Session, who: Who) -> dict:
    return ok(schemas.Ad.model_validate(await AdService(session).update(ad_id, body, who)))
