"""The checked-in AsyncAPI document is the one the contracts generate."""

from pathlib import Path

from kilat.contracts import asyncapi, registry

ROOT = Path(__file__).resolve().parents[3]


def test_checked_in_asyncapi_document_is_current():
    checked_in = (ROOT / asyncapi.DOCUMENT).read_text()
    assert checked_in == asyncapi.render(), (
        "docs/events.asyncapi.yaml is stale: run "
        "`python -m kilat.contracts.asyncapi --out docs/events.asyncapi.yaml`")


def test_every_contract_has_a_channel_and_a_message_with_its_schema():
    document = asyncapi.document()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert document["asyncapi"] == "3.0.0"
    platform = {t for t, c in registry().items() if c.__module__.startswith("kilat.contracts.")}
    assert addresses == platform
    for message in document["components"]["messages"].values():
        schema_name = message["payload"]["$ref"].rsplit("/", 1)[1]
        assert "properties" in document["components"]["schemas"][schema_name]
