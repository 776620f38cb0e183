"""Review bodies follow the kernel's text rule and keep refusing unknown fields."""

import pytest

from tests.service.review.support import completed_trip, review, review_service


@pytest.mark.parametrize(("extra", "field"), [
    ({"comment": "great\x00runner"}, "comment"), ({"tags": ["punctual\x07"]}, "tags"),
    ({"surprise": True}, "surprise"),
])
async def test_a_review_with_unstorable_text_or_unknown_fields_is_400(infra, extra, field):
    async with review_service(infra) as (runtime, client):
        trip = await completed_trip(infra, runtime)
        response = await review(client, trip, trip.owner, 5, **extra)
        assert response.status_code == 400, response.text
        assert response.json()["success"] is False and field in response.json()["error"]
        assert (await review(client, trip, trip.owner, 5)).status_code == 201
