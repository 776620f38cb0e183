"""Event contracts: wire form, old payloads, registry completeness."""

import ast
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from kilat.contracts import Contract, VehicleType, by_type, registry
from kilat.contracts.booking import BookingAccepted, BookingCancelled, BookingFact
from kilat.contracts.review import ReviewCreated
from kilat.platform.events import Event

SERVICES = Path(__file__).resolve().parents[3] / "src" / "kilat" / "services"
EVENT_NAME = re.compile(r"^(booking|identity|payment|runner|tracking|review|chat)\.[a-z_]+$")
NOT_EVENTS = {
    "runner.location_reported", "runner.location_update", "runner.live", "tracking.frames",  # fast path
    "chat.image_sent",  # a notification template name
}


def sample(contract: type[Contract]) -> Contract:
    """An instance with every field set to a value of its type."""
    values = {}
    for name, field in contract.model_fields.items():
        text = str(field.annotation)
        if "UUID" in text:
            values[name] = uuid.uuid4()
        elif "datetime" in text:
            values[name] = datetime(2026, 12, 7, 20, 52, 23, 123456, tzinfo=UTC)
        elif "RunnerRating" in text:
            values[name] = {"average": 4.5, "count": 2}
        elif "list" in text:
            values[name] = ["gentle"]
        elif "int" in text:
            values[name] = 4423
        elif "float" in text:
            values[name] = 3.1415
        else:
            values[name] = f"{name}-text"
    return contract(**values)


@pytest.mark.parametrize("contract", sorted(registry().values(), key=lambda c: c.TYPE),
                         ids=lambda c: c.TYPE)
def test_every_contract_survives_the_wire(contract):
    sent = sample(contract)
    event = Event.from_json(Event(source="test", type=contract.TYPE, data=sent.data()).to_json())
    assert event.payload == sent
    assert by_type(contract.TYPE) is contract


def test_wire_form_is_the_dict_producers_wrote_before_contracts():
    booking_id, owner_id = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 12, 7, 20, 52, 23, 123456, tzinfo=UTC)
    data = BookingAccepted(booking_id=booking_id, owner_id=owner_id, status="accepted",
                           occurred_at=at, accepted_at=at).data()
    assert data["booking_id"] == str(booking_id) and data["owner_id"] == str(owner_id)
    assert data["occurred_at"] == at.isoformat() == "2026-12-07T20:52:23.123456+00:00"
    assert data["runner_id"] is None


def test_a_stored_old_style_payload_parses_and_unknown_fields_are_ignored():
    stored = {"booking_id": "0b0f2b0e-2f59-4d1c-9a57-3f3c3a4a9a10", "booking_number": "BK-1",
              "owner_id": "6c1b4f1e-35a8-4a0e-8b8f-0a5a1d7f3c11", "runner_id": None,
              "status": "cancelled", "estimated_price_cents": 4423, "currency": "MYR",
              "occurred_at": "2026-11-30T08:00:00.000001+00:00", "cancelled_by": None,
              "cancelled_by_role": "owner", "reason": None, "previous_status": "requested",
              "added_by_a_newer_producer": True}
    event = Event(source="booking", type="booking.cancelled", data=stored)
    cancelled = event.payload
    assert isinstance(cancelled, BookingCancelled)
    assert cancelled.booking_id == uuid.UUID(stored["booking_id"])
    assert cancelled.occurred_at == datetime(2026, 11, 30, 8, 0, 0, 1, tzinfo=UTC)
    assert cancelled.data() == {k: v for k, v in stored.items() if k != "added_by_a_newer_producer"}


def test_a_payload_without_its_aggregate_id_is_refused():
    with pytest.raises(ValidationError):
        _ = Event(source="review", type=ReviewCreated.TYPE, data={"rating": 5}).payload


def test_a_type_without_a_contract_is_a_lookup_error():
    with pytest.raises(LookupError):
        by_type("hovercraft.teleported")  # no contract and no family of that name


def test_a_booking_type_this_build_does_not_know_is_read_as_a_booking_fact():
    booking_id = uuid.uuid4()
    event = Event(source="booking", type="booking.rescheduled",
                  data={"booking_id": str(booking_id), "status": "requested", "new": 1})
    assert type(event.payload) is BookingFact and event.payload.booking_id == booking_id


def test_contracts_are_frozen_and_name_their_subject():
    accepted = BookingAccepted(booking_id=uuid.uuid4())
    with pytest.raises(ValidationError):
        accepted.status = "accepted"
    assert accepted.subject == str(accepted.booking_id)


def _event_names_in_services() -> set[str]:
    names = set()
    for path in SERVICES.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and EVENT_NAME.match(node.value) and not node.value.endswith("_"):
                names.add(node.value)
    return names - NOT_EVENTS


def test_every_event_type_a_service_names_has_a_contract():
    assert _event_names_in_services() - set(registry()) == set()


def test_notification_rules_only_name_contracted_events():
    from kilat.services.notification.rules import RULES

    assert set(RULES) <= set(registry())


def test_one_vehicle_type_reads_identitys_motorbike_as_motorcycle():
    assert VehicleType("motorbike") is VehicleType.MOTORCYCLE
    assert {v.value for v in VehicleType} == {"car", "van", "motorcycle", "bicycle"}
