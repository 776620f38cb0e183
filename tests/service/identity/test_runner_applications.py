"""The public runner application form: POST /api/v1/runners/apply."""

import asyncio
import re
import uuid

import pytest
from sqlalchemy import select

from kilat.platform.models import utcnow
from kilat.services.identity.models import RunnerApplication

def application(**overrides) -> dict:
    return {
        "name": "Farid Rahman", "phone": "+60123456789",
        "icNumber": f"{uuid.uuid4().int % 10**12:012d}",
        "vehicleType": "car", "plateNumber": "wxy 1234",
        "petExperience": ["dogs", "cats", "dogs"], "comfortableWithLivePets": True,
        "consentAcknowledged": True,
    } | overrides


async def apply(client, **overrides):
    return await client.post("/api/v1/runners/apply", json=application(**overrides))


async def test_application_is_201_with_a_kr_id_and_stored_pending_review(identity):
    runtime, client = identity
    response = await apply(client, icNumber="900101-14-5678")
    assert response.status_code == 201
    application_id = response.json()["data"]["applicationId"]
    assert application_id == f"KR-{utcnow().year}-00001"
    async with runtime.database.session(write=False) as session:
        stored = (await session.scalars(select(RunnerApplication))).one()
    assert stored.application_id == application_id
    assert stored.status == "pending_review"
    assert stored.ic_number == "900101145678" and stored.plate_number == "WXY 1234"
    assert stored.pet_experience == ["dogs", "cats"]
    assert stored.comfortable_with_live_pets is True


async def test_application_ids_count_up_within_the_year(identity):
    _, client = identity
    ids = [(await apply(client)).json()["data"]["applicationId"] for _ in range(3)]
    year = utcnow().year
    assert ids == [f"KR-{year}-00001", f"KR-{year}-00002", f"KR-{year}-00003"]


async def test_concurrent_applications_get_distinct_ids(identity):
    _, client = identity
    responses = await asyncio.gather(*[apply(client) for _ in range(5)])
    assert [r.status_code for r in responses] == [201] * 5
    ids = {r.json()["data"]["applicationId"] for r in responses}
    assert len(ids) == 5 and all(re.fullmatch(r"KR-\d{4}-\d{5}", i) for i in ids)


async def test_the_web_forms_motorbike_is_accepted_and_stored_as_a_motorcycle(identity):
    runtime, client = identity
    response = await apply(client, vehicleType="motorbike")
    assert response.status_code == 201
    async with runtime.database.session(write=False) as session:
        stored = (await session.scalars(select(RunnerApplication))).one()
    assert stored.vehicle_type == "motorcycle"
    refused = await apply(client, vehicleType="motorbike", plateNumber=None)
    assert refused.status_code == 400


async def test_a_bicycle_needs_no_plate(identity):
    _, client = identity
    response = await apply(client, vehicleType="bicycle", plateNumber=None, petExperience=[])
    assert response.status_code == 201


async def test_duplicate_ic_number_is_409_even_when_written_differently(identity):
    _, client = identity
    assert (await apply(client, icNumber="900101-14-5678")).status_code == 201
    response = await apply(client, icNumber=" 900101 14 5678 ")
    assert response.status_code == 409
    assert response.json()["error"] == "a runner application with this IC number already exists"


@pytest.mark.parametrize(("overrides", "error"), [
    ({"consentAcknowledged": False}, "consent must be acknowledged"),
    ({"consentAcknowledged": None}, None),
    ({"vehicleType": "helicopter"}, None),
    ({"petExperience": ["dogs", "dragons"]}, None),
    ({"plateNumber": ""}, "plateNumber is required for a car"),
    ({"phone": "call me"}, "invalid phone number format"),
    ({"phone": ""}, "phone is required"),
    ({"icNumber": "12"}, "invalid IC number"),
    ({"name": " "}, None),
])
async def test_invalid_application_is_400_and_stores_nothing(identity, overrides, error):
    runtime, client = identity
    response = await apply(client, **overrides)
    assert response.status_code == 400
    assert response.json()["success"] is False
    if error:
        assert response.json()["error"] == error
    async with runtime.database.session(write=False) as session:
        assert (await session.scalars(select(RunnerApplication))).all() == []


async def test_missing_consent_field_is_400(identity):
    _, client = identity
    body = application()
    del body["consentAcknowledged"]
    response = await client.post("/api/v1/runners/apply", json=body)
    assert response.status_code == 400 and response.json()["error"] == "consent must be acknowledged"
