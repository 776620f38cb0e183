"""The Kilat wire format: ``{"success": true, "data": ...}`` and its error and page forms."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, Query, WebSocketException
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
)
from pydantic_core import core_schema
from starlette.requests import HTTPConnection

from kilat.platform.errors import BadRequest

T = TypeVar("T")

MAX_PAGE_LIMIT = 100
MAX_PAGE = 1_000_000  # keeps the offset inside a 64-bit integer
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_CENTS = 10**12  # ten billion in major units: above any real amount, far inside BIGINT
MAX_URL_LENGTH = 2048

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def storable_text(value: str) -> str:
    """Refuse what no column should hold: NUL, other C0 controls but tab/CR/LF, lone surrogates."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return value
    if found.group() == "\x00":
        raise ValueError("must not contain NUL characters")
    if found.group() >= "\ud800":
        raise ValueError("must be valid unicode text (no lone surrogates)")
    raise ValueError("must not contain control characters other than tab and newline")


_WEB_URL = re.compile(r"^([Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+|/[^\s/])\S*$")
_NOT_SCHEMAS = frozenset({"metadata", "serialization", "config", "default", "ref", "cls"})


def _guarded(node: Any) -> Any:
    """Copy of a core schema whose strings are storable and whose integers fit a BIGINT."""
    if isinstance(node, list | tuple):
        return type(node)(_guarded(item) for item in node)
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "str":
        return core_schema.no_info_after_validator_function(storable_text, node)
    if kind == "int":
        bounds = {"le": INT64_MAX} if "le" not in node and "lt" not in node else {}
        if "ge" not in node and "gt" not in node:
            bounds["ge"] = -INT64_MAX - 1
        return node | bounds
    if kind in ("model", "definition-ref"):
        return node  # a nested model guards itself
    return {key: value if key in _NOT_SCHEMAS else _guarded(value) for key, value in node.items()}


def _guard_model(schema: Any, cls: type) -> Any:
    """Guard the fields of ``cls`` inside the wrappers its own model validators add."""
    if schema.get("type") == "model" and schema.get("cls") is cls:
        return schema | {"schema": _guarded(schema["schema"])}
    if schema.get("type") in ("function-after", "function-before", "function-wrap", "definitions"):
        return schema | {"schema": _guard_model(schema["schema"], cls)}
    return schema


class Schema(BaseModel):
    """Base of every request and response body.

    Every string field refuses NUL, other control characters (tab, CR and LF excepted) and lone
    surrogates, and every integer field without its own bounds stays within a signed 64-bit
    integer, so no input the schema accepts can fail in the database.
    """

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any,
                                     handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return _guard_model(handler(source), cls)


def _query_names(dependant: Any) -> frozenset[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


def _text_params(connection: HTTPConnection) -> list[tuple[str, str]]:
    params = [(name, value) for name, value in connection.path_params.items()
              if isinstance(value, str)]
    dependant = getattr(connection.scope.get("route"), "dependant", None)
    if connection.query_params and dependant is not None:
        declared = _query_names(dependant)
        params += [(name, value) for name, value in connection.query_params.multi_items()
                   if name in declared]
    return params


async def storable_params(connection: HTTPConnection) -> None:
    """Path and declared query strings obey the body rule (``storable_text``): 400 otherwise."""
    for name, value in _text_params(connection):
        try:
            storable_text(value)
        except ValueError as exc:
            if connection.scope["type"] == "websocket":
                raise WebSocketException(1008, f"{name}: {exc}") from None
            raise BadRequest(f"{name}: {exc}") from None


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


def web_url(value: str) -> str:
    """Only links a browser fetches over HTTP: never ``javascript:``, ``data:`` or ``file:``."""
    if not _WEB_URL.match(value):
        raise ValueError("must be an http(s) URL or a path starting with /")
    return value


NonEmptyStr = Annotated[str, Field(min_length=1)]
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]
WebUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_URL_LENGTH),
    AfterValidator(web_url),
    Field(description="an http(s) URL, or a path on this platform such as an uploaded photo's",
          json_schema_extra={"pattern": _WEB_URL.pattern}),
]


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


# null and "" (as the web clients send an empty field) both mean no URL
OptionalWebUrl = Annotated[WebUrl | None, BeforeValidator(_blank_to_none)]
