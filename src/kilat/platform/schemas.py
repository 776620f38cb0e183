"""The Kilat wire format: ``{"success": true, "data": ...}`` and its error and page forms."""

from __future__ import annotations

import math
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

MAX_PAGE_LIMIT = 100
MAX_PAGE = 1_000_000  # keeps the offset inside a 64-bit integer


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class Envelope(BaseModel, Generic[T]):
    success: Literal[True] = True
    data: T


class Pagination(BaseModel):
    total: int
    page: int
    limit: int
    total_pages: int


class Page(BaseModel, Generic[T]):
    success: Literal[True] = True
    data: list[T]
    pagination: Pagination


class ErrorBody(BaseModel):
    success: Literal[False] = False
    error: str
    detail: str = ""


class Message(BaseModel):
    message: str


class PageParams(BaseModel):
    page: int = 1
    limit: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def page_params(
    page: Annotated[int, Query(description="1-based page number; values below 1 mean 1")] = 1,
    limit: Annotated[
        int, Query(description=f"page size, 1..{MAX_PAGE_LIMIT}; out-of-range values mean 20")
    ] = 20,
) -> PageParams:
    """Out-of-range values fall back to the defaults, as the Kilat clients expect."""
    if page < 1:
        page = 1
    page = min(page, MAX_PAGE)
    if limit < 1 or limit > MAX_PAGE_LIMIT:
        limit = 20
    return PageParams(page=page, limit=limit)


Paging = Annotated[PageParams, Depends(page_params)]


def total_pages(total: int, limit: int) -> int:
    return math.ceil(total / limit) if limit > 0 else 0


def page_of(items: list, total: int, params: PageParams) -> dict:
    return {
        "success": True,
        "data": items,
        "pagination": {
            "total": total,
            "page": params.page,
            "limit": params.limit,
            "total_pages": total_pages(total, params.limit),
        },
    }


def ok(data: object) -> dict:
    return {"success": True, "data": data}


def error_responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI ``responses=`` entries for the error codes a route may return."""
    return {code: {"model": ErrorBody} for code in codes}


NonEmptyStr = Annotated[str, Field(min_length=1)]
