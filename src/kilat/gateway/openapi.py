"""One OpenAPI document for the platform, merged from the services behind the gateway."""

from __future__ import annotations

import asyncio

import httpx
import structlog

from kilat.gateway.routes import resolve
from kilat.gateway.upstreams import Upstream

log = structlog.get_logger(__name__)


def rewrite_refs(node: object, renames: dict[str, str]) -> object:
    if isinstance(node, dict):
        return {key: renames.get(value, value) if key == "$ref" and isinstance(value, str)
                else rewrite_refs(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [rewrite_refs(item, renames) for item in node]
    return node


def _ref(kind: str, name: str) -> str:
    return f"#/components/{kind}/{name}"


def collision_renames(service: str, components: dict, merged: dict) -> dict[str, str]:
    """Refs of ``service``'s components whose name is taken by a different definition.

    Renaming one component changes the refs inside others, which may then differ too, so this
    repeats until no new collision appears.
    """
    renames: dict[str, str] = {}
    while True:
        rewritten = rewrite_refs(components, renames)
        clashes = {
            _ref(kind, name): _ref(kind, f"{service}_{name}")
            for kind, entries in rewritten.items() for name, value in entries.items()
            if name in merged.get(kind, {}) and merged[kind][name] != value
        }
        if clashes.keys() <= renames.keys():
            return renames
        renames |= clashes


def _renamed_components(components: dict, renames: dict[str, str]) -> dict:
    rewritten = rewrite_refs(components, renames)
    return {
        kind: {renames.get(_ref(kind, name), _ref(kind, name)).rsplit("/", 1)[1]: value
               for name, value in entries.items()}
        for kind, entries in rewritten.items()
    }


def merge_openapi(docs: dict[str, dict], *, title: str = "Kilat API",
                  version: str = "1.0.0") -> dict:
    """Paths the gateway routes to each service, and their components, clashing names prefixed."""
    merged: dict = {"openapi": "3.1.0", "info": {"title": title, "version": version},
                    "paths": {}, "components": {}, "tags": []}
    for service, doc in docs.items():
        merged["openapi"] = doc.get("openapi", merged["openapi"])
        components = doc.get("components", {})
        renames = collision_renames(service, components, merged["components"])
        for path, item in doc.get("paths", {}).items():
            if resolve(path) == service:
                merged["paths"][path] = rewrite_refs(item, renames)
        for kind, entries in _renamed_components(components, renames).items():
            merged["components"].setdefault(kind, {}).update(entries)
        merged["tags"] += [tag for tag in doc.get("tags", []) if tag not in merged["tags"]]
    if not merged["tags"]:
        del merged["tags"]
    return merged


class OpenAPICatalog:
    """Fetches each service's document once; a service that is down is left out until it is up."""

    def __init__(self, upstreams: dict[str, Upstream], *, timeout: float) -> None:
        self._upstreams = upstreams
        self._timeout = timeout
        self._docs: dict[str, dict] = {}
        self._merged: dict | None = None

    async def document(self) -> dict:
        if self._merged is not None:
            return self._merged
        missing = [name for name in self._upstreams if name not in self._docs]
        fetched = await asyncio.gather(*(self._fetch(name) for name in missing))
        self._docs |= {name: doc for name, doc in zip(missing, fetched, strict=True) if doc}
        merged = merge_openapi({name: self._docs[name] for name in self._upstreams
                                if name in self._docs})
        if len(self._docs) == len(self._upstreams):
            self._merged = merged
        return merged

    async def _fetch(self, name: str) -> dict | None:
        try:
            response = await self._upstreams[name].get("/openapi.json", self._timeout)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, OSError, TimeoutError, ValueError) as exc:
            log.warning("openapi unavailable", service=name, error=repr(exc))
            return None
