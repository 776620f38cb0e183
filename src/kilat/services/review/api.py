"""Review routes: write a review, read a runner's, a booking's and my own; admin moderation."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.http import Session
from kilat.platform.models import utcnow
from kilat.platform.readthrough import Fetch, from_owner
from kilat.platform.schemas import Envelope, Page, Paging, error_responses, ok, page_of
from kilat.services.review import schemas
from kilat.services.review.context import Ctx
from kilat.services.review.service import ReviewService


def _service(request: Request, session: Session, context: Ctx) -> ReviewService:
    def fetch_booking(booking_id: uuid.UUID) -> Fetch:
        return from_owner(context.infra, "booking", f"/api/v1/bookings/{booking_id}",
                          authorization=request.headers.get("authorization"),
                          entity="Booking", entity_id=booking_id)

    return ReviewService(session, context.settings, fetch_booking)


Reviews = Annotated[ReviewService, Depends(_service)]
Admin = RequireRole("admin")

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])
admin_router = APIRouter(prefix="/api/v1/admin/reviews", tags=["reviews admin"])


def _out(rows) -> list[schemas.Review]:
    return [schemas.Review.model_validate(r) for r in rows]


@router.post("", status_code=201, response_model=Envelope[schemas.Review],
             responses=error_responses(400, 401, 403, 404, 409, 422))
async def create_review(body: schemas.ReviewCreate, reviews: Reviews, user: CurrentUser) -> dict:
    return ok(schemas.Review.model_validate(await reviews.create(user, body, utcnow())))


@router.get("/runner/{runner_id}", response_model=schemas.RunnerReviewPage,
            responses=error_responses(400, 401),
            summary="A runner's visible reviews from owners, newest first, with average and count")
async def runner_reviews(runner_id: uuid.UUID, reviews: Reviews, paging: Paging,
                         _user: CurrentUser) -> dict:
    rows, total = await reviews.for_runner(runner_id, paging.offset, paging.limit)
    summary = await reviews.summary(runner_id)
    return page_of(_out(rows), total, paging) | {"average": summary["average"],
                                                 "count": summary["count"]}


@router.get("/runner/{runner_id}/summary", response_model=Envelope[schemas.RatingSummary],
            responses=error_responses(400, 401))
async def runner_rating(runner_id: uuid.UUID, reviews: Reviews, _user: CurrentUser) -> dict:
    return ok(await reviews.summary(runner_id))


@router.get("/booking/{booking_id}", response_model=Envelope[list[schemas.Review]],
            responses=error_responses(400, 401, 403, 404))
async def booking_reviews(booking_id: uuid.UUID, reviews: Reviews, user: CurrentUser) -> dict:
    return ok(_out(await reviews.for_booking(booking_id, user)))


@router.get("/me", response_model=Page[schemas.Review], responses=error_responses(400, 401))
async def my_reviews(
    reviews: Reviews, user: CurrentUser, paging: Paging,
    direction: Annotated[Literal["written", "received"],
                         Query(description="reviews I wrote (default) or received")] = "written",
) -> dict:
    rows, total = await reviews.mine(user.user_id, direction == "received", paging.offset,
                                     paging.limit)
    return page_of(_out(rows), total, paging)


@router.get("/{review_id}", response_model=Envelope[schemas.Review],
            responses=error_responses(400, 401, 404))
async def get_review(review_id: uuid.UUID, reviews: Reviews, user: CurrentUser) -> dict:
    return ok(schemas.Review.model_validate(await reviews.get(review_id, user)))


@admin_router.get("", response_model=Page[schemas.Review], responses=error_responses(400, 401, 403))
async def admin_reviews(reviews: Reviews, _admin: Admin, paging: Paging,
                        hidden: bool | None = None, runner_id: uuid.UUID | None = None,
                        booking_id: uuid.UUID | None = None) -> dict:
    rows, total = await reviews.admin_page(paging.offset, paging.limit, hidden=hidden,
                                           runner_id=runner_id, booking_id=booking_id)
    return page_of(_out(rows), total, paging)


@admin_router.post("/{review_id}/hide", response_model=Envelope[schemas.Review],
                   responses=error_responses(400, 401, 403, 404, 409))
async def hide_review(review_id: uuid.UUID, body: schemas.HideReview, reviews: Reviews,
                      admin: Admin) -> dict:
    return ok(schemas.Review.model_validate(await reviews.hide(review_id, admin, body.reason,
                                                               utcnow())))
