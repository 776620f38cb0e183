"""The AsyncAPI 3.0 document of every event, generated from the contracts.

``python -m kilat.contracts.asyncapi [--out docs/events.asyncapi.yaml]`` writes it (stdout by
default); ``tests/unit/contracts/test_asyncapi.py`` fails when the checked-in file is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from kilat.contracts.base import Contract, registry

DOCUMENT = Path("docs/events.asyncapi.yaml")


def _message_name(contract: type[Contract]) -> str:
    return contract.__name__


def _schemas(contracts: list[type[Contract]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each contract's JSON Schema, with the nested models moved to shared components."""
    payloads, shared = {}, {}
    for contract in contracts:
        schema = contract.model_json_schema(ref_template="#/components/schemas/{model}")
        shared.update(schema.pop("$defs", {}))
        payloads[_message_name(contract)] = schema
    return payloads, shared


def document() -> dict[str, Any]:
    contracts = sorted((c for c in registry().values() if c.__module__.startswith("kilat.contracts.")),
                       key=lambda c: c.TYPE)
    payloads, shared = _schemas(contracts)
    channels, operations, messages = {}, {}, {}
    for contract in contracts:
        name, channel = _message_name(contract), contract.TYPE.replace(".", "_")
        messages[name] = {
            "name": contract.TYPE,
            "title": name,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "x-version": contract.VERSION,
            "x-subject": contract.SUBJECT,
        }
        channels[channel] = {"address": contract.TYPE,
                             "messages": {name: {"$ref": f"#/components/messages/{name}"}}}
        operations[f"publish_{channel}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"}]}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Kilat events", "version": "1.0.0",
                 "description": "Every event a Kilat service publishes: the CloudEvents `data` of "
                                "each type, generated from kilat.contracts. Do not edit by hand."},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": shared | payloads},
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    if args.out is None:
        sys.stdout.write(render())
    else:
        args.out.write_text(render())


if __name__ == "__main__":
    main()
