"""The kernel's input rules: storable strings, bounded integers and web URLs in every body."""

from __future__ import annotations

import typing

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError, field_validator, model_validator

from kilat.platform.events.admin import dead_letter_router
from kilat.platform.schemas import INT64_MAX, OptionalWebUrl, Schema, storable_text
from kilat.services import SERVICES, load_descriptor


class Inner(Schema):
    label: str
    tags: list[str] = []
    counts: dict[str, int] = {}


class Body(Schema):
    name: str
    note: str | None = None
    inner: Inner | None = None
    items: list[Inner] = []
    quantity: int = 0
    link: OptionalWebUrl = None


class Validated(Schema):
    """A model wrapped by its own validators still has its fields guarded."""

    code: str
    amount: int = 1

    @field_validator("code")
    @classmethod
    def _upper(cls, code: str) -> str:
        return code.upper()

    @model_validator(mode="after")
    def _positive(self) -> Validated:
        return self


@pytest.mark.parametrize("body", [{"code": "a\x00"}, {"code": "a", "amount": 2**63}])
def test_a_model_with_its_own_validators_is_guarded_too(body):
    with pytest.raises(ValidationError):
        Validated.model_validate(body)


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "nul\x00byte"}, "NUL"),
    ({"name": "ok", "note": "bell\x07"}, "control characters"),
    ({"name": "escape\x1b[31m"}, "control characters"),
    ({"name": "lone \ud800 surrogate"}, "unicode"),
    ({"name": "ok", "inner": {"label": "\x00"}}, "NUL"),
    ({"name": "ok", "items": [{"label": "ok", "tags": ["a\x00"]}]}, "NUL"),
    ({"name": "ok", "inner": {"label": "ok", "counts": {"k\x00": 1}}}, "NUL"),
])
def test_every_string_refuses_what_no_column_can_store(body, message):
    with pytest.raises(ValidationError, match=message):
        Body.model_validate(body)


def test_tab_newline_and_carriage_return_are_text():
    assert Body.model_validate({"name": "a\tb\r\nc"}).name == "a\tb\r\nc"


@pytest.mark.parametrize("quantity", [2**63, -(2**63) - 1, 10**30])
def test_an_integer_without_bounds_still_fits_a_bigint(quantity):
    with pytest.raises(ValidationError):
        Body.model_validate({"name": "ok", "quantity": quantity})


def test_the_bigint_bounds_themselves_are_accepted_and_documented():
    assert Body.model_validate({"name": "ok", "quantity": INT64_MAX}).quantity == INT64_MAX
    documented = Body.model_json_schema()["properties"]["quantity"]
    assert (documented["minimum"], documented["maximum"]) == (-(2**63), INT64_MAX)


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>", "file:///etc/passwd",
    "vbscript:x", "http://", "https:///path", "//evil.example/x", "not a url",
    "https://example.com/" + "a" * 2048, "https://example.com/\x00",
])
def test_a_url_is_http_or_https_or_a_local_path(url):
    with pytest.raises(ValidationError):
        Body.model_validate({"name": "ok", "link": url})


@pytest.mark.parametrize(("url", "stored"), [
    ("https://cdn.example/p.jpg", "https://cdn.example/p.jpg"),
    (" HTTP://cdn.example/p.jpg ", "HTTP://cdn.example/p.jpg"),
    ("/api/v1/bookings/photos/files/abc.jpg", "/api/v1/bookings/photos/files/abc.jpg"),
    ("", None), ("   ", None), (None, None),
])
def test_a_web_url_or_an_empty_one(url, stored):
    assert Body.model_validate({"name": "ok", "link": url}).link == stored


def _routes(name: str) -> list[APIRoute]:
    routers = [*load_descriptor(name).routers, dead_letter_router(name)]
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def _models(annotation: object) -> set[type[BaseModel]]:
    """Every model class a body annotation reaches, nested ones included."""
    found: set[type[BaseModel]] = set()
    pending = [annotation]
    while pending:
        current = pending.pop()
        if isinstance(current, type) and issubclass(current, BaseModel):
            if current not in found:
                found.add(current)
                pending.extend(field.annotation for field in current.model_fields.values())
        else:
            pending.extend(typing.get_args(current))
    return found


def _request_models(name: str) -> set[type[BaseModel]]:
    models: set[type[BaseModel]] = set()
    for route in _routes(name):
        for param in route.dependant.body_params:
            models |= _models(param.field_info.annotation)
    return models


@pytest.mark.parametrize("name", SERVICES)
def test_every_request_body_model_derives_from_the_kernel_schema(name):
    models = _request_models(name)
    assert models, f"{name} has no request bodies?"
    assert {model.__name__ for model in models if not issubclass(model, Schema)} == set()


def _unguarded_strings(node: object, guarded: bool = False) -> int:
    if isinstance(node, list | tuple):
        return sum(_unguarded_strings(item, guarded) for item in node)
    if not isinstance(node, dict):
        return 0
    if node.get("type") == "str":
        return 0 if guarded else 1
    inner_guarded = node.get("type") == "function-after" and \
        node.get("function", {}).get("function") is storable_text
    return sum(_unguarded_strings(value, inner_guarded) for key, value in node.items()
               if key not in ("metadata", "serialization"))


@pytest.mark.parametrize("name", SERVICES)
def test_every_request_string_is_checked_by_the_kernel(name):
    for model in _request_models(name):
        assert _unguarded_strings(model.__pydantic_core_schema__) == 0, model.__name__


def _integers(schema: object) -> list[dict]:
    if isinstance(schema, dict):
        own = [schema] if schema.get("type") == "integer" else []
        return own + [found for value in schema.values() for found in _integers(value)]
    if isinstance(schema, list):
        return [found for value in schema for found in _integers(value)]
    return []


@pytest.mark.parametrize("name", SERVICES)
def test_every_request_integer_is_bounded_to_fit_a_bigint(name):
    for model in _request_models(name):
        for integer in _integers(model.model_json_schema()):
            assert integer.get("maximum", integer.get("exclusiveMaximum")) <= INT64_MAX, model
            assert integer.get("minimum", integer.get("exclusiveMinimum")) >= -(2**63), model


def _patterns(schema: object) -> set[str]:
    if isinstance(schema, dict):
        own = {schema["pattern"]} if "pattern" in schema else set()
        return own.union(*(_patterns(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_patterns(value) for value in schema))
    return set()


@pytest.mark.parametrize("name", SERVICES)
def test_every_url_field_follows_the_one_web_url_rule(name):
    rule = _patterns(Body.model_json_schema()["properties"]["link"])
    for model in _request_models(name):
        for field, schema in model.model_json_schema().get("properties", {}).items():
            if field.endswith("_url"):
                assert _patterns(schema) == rule, f"{model.__name__}.{field}"
