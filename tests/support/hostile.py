"""Hostile requests derived from an OpenAPI document: a few per field, the same on every run.

Each operation gets a valid baseline request (values from the schema, or from ``hints`` for what
the schema cannot know: existing ids, a password, a pattern). Every case then changes one thing in
the baseline (one body field, one query or path parameter, or a coordinate pair) to a value an
attacker would try. A case marked ``must_refuse`` carries a value no route may accept (NUL, an
integer beyond 64 bits in a body field, a value outside a parameter's declared bounds, a coordinate
off the globe, NaN or Infinity, a ``javascript:`` URL): it must get a 4xx. Every other case (valid
extremes such as the poles, control characters, year 1 and year 9999) must only avoid a 5xx.
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

JSON = "application/json"
MULTIPART = "multipart/form-data"
NUL = "a\x00b"
CONTROL = "a\x01\x08\x1b[2J\x7f\u202eb"
COORDINATE_LIMITS = {"latitude": 90.0, "lat": 90.0, "longitude": 180.0, "lng": 180.0,
                     "lon": 180.0}
POLES = [(-90.0, -180.0), (90.0, 180.0), (-90.0, 180.0), (89.9999999, -179.9999999),
         (85.06, -180.0), (-85.06, 180.0)]
EARTH_HALF_CIRCUMFERENCE_KM = 20037.5
Hints = Mapping[str, Any]  # field name → value, or a zero-argument callable for a fresh one


@dataclass(frozen=True)
class Hostile:
    label: str
    value: Any
    must_refuse: bool


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[dict, ...]
    body_schema: dict | None
    content_type: str | None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Case:
    operation: Operation
    label: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any
    must_refuse: bool = False

    def request(self) -> dict:
        """Keyword arguments for ``httpx.Client.request``."""
        headers = {p["name"]: uuid.uuid4().hex for p in self.operation.parameters
                   if p["in"] == "header"}
        kwargs: dict = {"method": self.operation.method, "url": self.path,
                        "params": list(self.query), "headers": headers}
        if self.operation.content_type == JSON:
            headers["Content-Type"] = JSON
            kwargs["content"] = json.dumps(self.body, allow_nan=True).encode()
        elif self.operation.content_type == MULTIPART:
            kwargs["data"], kwargs["files"] = self.body
        return kwargs


class Spec:
    """An OpenAPI document: its operations and valid examples of its schemas."""

    def __init__(self, document: dict, hints: Hints | None = None) -> None:
        self.document = document
        self.hints = dict(hints or {})

    def operations(self) -> list[Operation]:
        found = []
        for path, item in self.document["paths"].items():
            for method, op in item.items():
                content = op.get("requestBody", {}).get("content", {})
                content_type = next(iter(content), None)
                body = content[content_type]["schema"] if content_type else None
                found.append(Operation(method.upper(), path, tuple(op.get("parameters", [])),
                                       body, content_type))
        return found

    def resolve(self, schema: dict) -> dict:
        """The schema behind ``$ref`` and ``X | None``; other unions stand for their first arm."""
        while True:
            if "$ref" in schema:
                name = schema["$ref"].rsplit("/", 1)[1]
                schema = self.document["components"]["schemas"][name]
            elif "anyOf" in schema or "allOf" in schema:
                arms = [arm for arm in schema.get("anyOf") or schema["allOf"]
                        if arm.get("type") != "null"]
                schema = arms[0] if arms else {"type": "null"}
            else:
                return schema

    def example(self, schema: dict, name: str = "") -> Any:
        """A value the schema accepts (best effort: patterns are the hints' job)."""
        if name in self.hints:
            hint = self.hints[name]
            return hint() if callable(hint) else copy.deepcopy(hint)
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        return EXAMPLES.get(schema.get("type"), lambda _spec, _schema, _name: None)(
            self, schema, name)


def _object_example(spec: Spec, schema: dict, _name: str) -> dict:
    return {key: spec.example(sub, key) for key, sub in schema.get("properties", {}).items()}


def _array_example(spec: Spec, schema: dict, name: str) -> list:
    item = spec.example(schema.get("items", {}), name)
    return [item] * max(1, schema.get("minItems", 1))


def _string_example(_spec: Spec, schema: dict, name: str) -> str:
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    if fmt == "email":
        return f"hostile-{uuid.uuid4().hex[:10]}@example.com"
    if "url" in name.lower() or fmt == "uri":
        return "https://example.com/pet.jpg"
    text = "hostile" * 10
    return text[:schema.get("maxLength", len(text))].ljust(schema.get("minLength", 1), "x")


def _number_example(_spec: Spec, schema: dict, name: str) -> float | int:
    preferred = {"latitude": 3.159, "longitude": 101.7123}.get(name, 1.5)
    if schema.get("type") == "integer":
        preferred = 1
    low = max(schema.get("minimum", -math.inf), schema.get("exclusiveMinimum", -math.inf))
    high = min(schema.get("maximum", math.inf), schema.get("exclusiveMaximum", math.inf))
    if low <= preferred <= high:
        return preferred
    return schema.get("minimum", schema.get("maximum", preferred))


EXAMPLES: dict[str, Callable[[Spec, dict, str], Any]] = {
    "object": _object_example, "array": _array_example, "string": _string_example,
    "integer": _number_example, "number": _number_example,
    "boolean": lambda _spec, _schema, _name: False,
}


# --- hostile values ------------------------------------------------------------------------------


def hostile_values(name: str, schema: dict, *, stored: bool = True) -> list[Hostile]:
    """The few values worth trying in one field of this (resolved) schema. A ``stored`` field
    (a body field) must refuse integers no 64-bit column holds; a parameter only what its schema
    bounds exclude, since paging documents lenient meanings for out-of-range numbers."""
    kind = schema.get("type")
    if name.lower() in COORDINATE_LIMITS and kind in ("number", "integer"):
        return _coordinate_values(COORDINATE_LIMITS[name.lower()])
    if kind == "integer":
        return _integer_values(schema, stored)
    if kind == "number":
        return _number_values(schema)
    if kind == "string":
        return _string_values(name, schema)
    return []


def _outside(schema: dict, value: float) -> bool:
    return not (schema.get("minimum", -math.inf) <= value <= schema.get("maximum", math.inf)
                and schema.get("exclusiveMinimum", -math.inf) < value
                < schema.get("exclusiveMaximum", math.inf))


def _integer_values(schema: dict, stored: bool) -> list[Hostile]:
    return [Hostile(label, value, stored or _outside(schema, value))
            for label, value in (("2**63", 2**63), ("-2**63-1", -(2**63) - 1),
                                 ("10**30", 10**30))] + [Hostile("'NaN'", "NaN", True)]


def _number_values(schema: dict) -> list[Hostile]:
    return [Hostile("1e308", 1e308, _outside(schema, 1e308)),
            Hostile("-1e308", -1e308, _outside(schema, -1e308)),
            Hostile("NaN", math.nan, True), Hostile("Infinity", math.inf, True),
            Hostile("'NaN'", "NaN", True)]


def _coordinate_values(limit: float) -> list[Hostile]:
    beyond = limit + 1e-7
    return [Hostile(f"{limit:g}", limit, False), Hostile(f"-{limit:g}", -limit, False),
            Hostile(f"{beyond!r}", beyond, True), Hostile(f"-{beyond!r}", -beyond, True),
            Hostile("1e308", 1e308, True), Hostile("NaN", math.nan, True)]


def _string_values(name: str, schema: dict) -> list[Hostile]:
    values = [Hostile("NUL", NUL, True), Hostile("control chars", CONTROL, False)]
    if "url" in name.lower() or schema.get("format") == "uri":
        values.append(Hostile("javascript: URL", "javascript:alert(1)", True))
    if schema.get("format") == "date-time":
        values += [Hostile("year 9999", "9999-12-31T23:59:59.999999+00:00", False),
                   Hostile("year 1", "0001-01-01T00:00:00+00:00", False)]
    return values


def _path_values(schema: dict) -> list[Hostile]:
    values = [Hostile("NUL", NUL, True), Hostile("control chars", CONTROL, True),
              Hostile("2**63", str(2**63), True)]
    if schema.get("type") == "string" and "format" not in schema:
        values.append(Hostile("path traversal", "../../../../etc/passwd", True))
    return values


# --- cases ---------------------------------------------------------------------------------------


def cases(spec: Spec, operation: Operation, overrides: Hints | None = None) -> Iterator[Case]:
    """The baseline, then one case per hostile value of every field and parameter."""
    scoped = Spec(spec.document, spec.hints | dict(overrides or {}))
    yield _baseline(scoped, operation, "baseline")
    yield from _parameter_cases(scoped, operation)
    yield from _body_cases(scoped, operation)
    yield from _pole_cases(scoped, operation)


def _baseline(spec: Spec, operation: Operation, label: str, *, path_values: Mapping | None = None,
              query_values: Mapping | None = None, must_refuse: bool = False) -> Case:
    path_values, query_values = path_values or {}, query_values or {}
    path = operation.path
    query = []
    for parameter in operation.parameters:
        name, where = parameter["name"], parameter["in"]
        if where == "path":
            value = path_values.get(name, spec.example(parameter["schema"], name))
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        elif where == "query":
            value = query_values.get(name, spec.example(parameter["schema"], name))
            if value is not None:
                query.append((name, json.dumps(value) if isinstance(value, bool) else str(value)))
    return Case(operation, label, path, tuple(query), _body(spec, operation), must_refuse)


def _body(spec: Spec, operation: Operation) -> Any:
    if operation.body_schema is None:
        return None
    body = spec.example(operation.body_schema)
    if operation.content_type != MULTIPART:
        return body
    schema = spec.resolve(operation.body_schema)["properties"]
    binary = {key for key, field in schema.items()
              if field.get("contentMediaType") or field.get("format") == "binary"}
    files = {k: ("pet.png", b"\x89PNG\r\n\x1a\nnot really", "image/png") for k in binary}
    return {k: v for k, v in body.items() if k not in binary and v is not None}, files


def _parameter_cases(spec: Spec, operation: Operation) -> Iterator[Case]:
    for parameter in operation.parameters:
        name, where = parameter["name"], parameter["in"]
        schema = spec.resolve(parameter["schema"])
        if where == "path":
            values = _path_values(schema)
        elif where == "query":
            values = hostile_values(name, schema, stored=False)
        else:
            continue  # header values with control characters never leave the HTTP client
        for hostile in values:
            yield _baseline(spec, operation, f"{where} {name}={hostile.label}",
                            path_values={name: hostile.value} if where == "path" else {},
                            query_values={name: hostile.value} if where == "query" else {},
                            must_refuse=hostile.must_refuse)


def _body_cases(spec: Spec, operation: Operation) -> Iterator[Case]:
    if operation.body_schema is None:
        return
    template = _baseline(spec, operation, "")
    for location, name, schema in _leaves(spec, operation.body_schema, template.body):
        for hostile in hostile_values(name, schema):
            base = _baseline(spec, operation, "")
            body = _with_value(base.body, location, hostile.value)
            steps = location[1:] if operation.content_type == MULTIPART else location
            label = f"body {'.'.join(map(str, steps))}={hostile.label}"
            yield Case(operation, label, base.path, base.query, body, hostile.must_refuse)


def _leaves(spec: Spec, schema: dict, value: Any, location: tuple = (),
            name: str = "") -> Iterator[tuple[tuple, str, dict]]:
    """(location in the body, field name, resolved schema) of every scalar in ``value``."""
    schema = spec.resolve(schema)
    if isinstance(value, tuple):  # multipart: (fields, files)
        yield from _leaves(spec, schema, value[0], (0,), name)
    elif isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                yield from _leaves(spec, sub, value[key], (*location, key), key)
    elif isinstance(value, list) and value:
        yield from _leaves(spec, schema.get("items", {}), value[0], (*location, 0), name)
    elif location:
        yield location, name, schema


def _with_value(body: Any, location: tuple, value: Any) -> Any:
    if isinstance(body, tuple):
        return (_with_value(body[0], location[1:], value), body[1])
    changed = copy.deepcopy(body)
    target = changed
    for step in location[:-1]:
        target = target[step]
    target[location[-1]] = value
    return changed


def _pole_cases(spec: Spec, operation: Operation) -> Iterator[Case]:
    """Both coordinates at a pole or the antimeridian at once, with the widest radius allowed."""
    query = {p["name"]: spec.resolve(p["schema"]) for p in operation.parameters
             if p["in"] == "query"}
    if not {"latitude", "longitude"} <= query.keys():
        return
    widest = {}
    if "radius_km" in query:
        widest["radius_km"] = query["radius_km"].get("maximum", EARTH_HALF_CIRCUMFERENCE_KM)
    for latitude, longitude in POLES:
        values = {"latitude": latitude, "longitude": longitude}
        label = f"query pole ({latitude:g}, {longitude:g})"
        yield _baseline(spec, operation, label, query_values=values)
        if widest:
            yield _baseline(spec, operation, f"{label} radius_km={widest['radius_km']:g}",
                            query_values=values | widest)


def oversized_json(limit: int) -> bytes:
    """A well-formed JSON object one byte longer than ``limit``."""
    head, tail = b'{"padding": "', b'"}'
    return head + b"a" * (limit + 1 - len(head) - len(tail)) + tail


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """``body`` as a stream, so the client sends it chunked without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def envelope_problem(status: int, text: str) -> str | None:
    """Why a 4xx body is not ``{"success": false, "error": str, "detail": str}`` (None if it is)."""
    try:
        payload = json.loads(text)
    except ValueError:
        return f"not JSON: {text[:80]!r}"
    if not isinstance(payload, dict) or set(payload) != {"success", "error", "detail"}:
        return f"not the envelope: {text[:120]}"
    if payload["success"] is not False or not all(
            isinstance(payload[key], str) for key in ("error", "detail")):
        return f"malformed envelope: {text[:120]}"
    return None
