"""Schemathesis over a running service: never a 5xx, and every response matches its OpenAPI.

Hypothesis drives the cases from a worker thread; each request runs on the test's event loop
through the service's own client, so the service keeps a single loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
HeadersFor = Callable[[str, str], Mapping[str, str]]  # (method, path) -> headers


async def _send(client: httpx.AsyncClient, request: dict) -> httpx.Response:
    if "json" in request:
        body = {"json": request["json"]}
    elif request.get("files"):
        body = {"files": _multipart(request["files"]), "data": request.get("data") or None}
    else:
        body = {"content": request.get("data")}
    built = client.build_request(request["method"], request["url"], headers=request["headers"],
                                 params=request.get("params"), cookies=request.get("cookies"),
                                 **body)
    built.read()  # multipart bodies stream; schemathesis reads the request back
    return await client.send(built)


def _multipart(files: list) -> list:
    """Schemathesis' requests-style parts (any value) as httpx parts (bytes or text)."""
    parts = []
    for name, value in files:
        filename, content, *rest = value if isinstance(value, tuple) else (None, value)
        if not isinstance(content, bytes | str):
            content = json.dumps(content)
        parts.append((name, (filename, content, *rest)))
    return parts


def _strategies(operation, ids: Mapping[str, str]) -> list:
    found = [operation.as_strategy(GenerationMode.POSITIVE),
             operation.as_strategy(GenerationMode.NEGATIVE)]
    params = {name: value for name, value in ids.items() if "{" + name + "}" in operation.path}
    if params:  # also aim at existing resources, not only at random ids
        found.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=params))
    return found


async def fuzz_openapi(client: httpx.AsyncClient, headers_for: HeadersFor, *,
                       ids: Mapping[str, str] | None = None, examples: int = 8,
                       checks: list | None = None, paths: tuple[str, ...] = ()) -> int:
    """Fuzz every operation of the service behind ``client`` (or those under ``paths``).

    ``headers_for(method, path)`` gives the caller's headers for an operation; ``ids`` maps path
    parameter names to existing resources. Returns how many operations were fuzzed, so a test can
    pin it and notice an operation added without a thought for its contract.
    """
    schema = schemathesis.openapi.from_dict((await client.get("/openapi.json")).json())
    loop = asyncio.get_running_loop()
    ids = ids or {}
    checks = checks or CHECKS

    def call(case) -> httpx.Response:
        headers = dict(headers_for(case.operation.method.upper(), case.operation.path))
        request = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
        return asyncio.run_coroutine_threadsafe(_send(client, request), loop).result(30)

    def fuzz(operation) -> None:
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate, Phase.shrink])
        @given(case=st.one_of(*_strategies(operation, ids)))
        def check(case) -> None:
            case.validate_response(call(case), checks=checks)

        check()

    operations = [result.ok() for result in schema.get_all_operations()]
    if paths:
        operations = [operation for operation in operations if operation.path.startswith(paths)]
    for operation in operations:
        await asyncio.to_thread(fuzz, operation)
    return len(operations)
