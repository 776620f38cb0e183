"""On PostgreSQL, a NUL in a runner profile used to fail in the database (500): now 400."""

from kilat.platform.schemas import INT32_MAX
from tests.service.runner.support import runner_app
from tests.support.harness import postgres_database_url, require_postgres


async def test_runner_text_with_a_nul_and_huge_versions_are_400_on_postgres(infra):
    require_postgres()
    async with runner_app(infra, database_url=postgres_database_url("runner")) as app:
        headers = app.headers("runner")
        for change in ({"full_name": "Ali\x00"}, {"vehicle_model": "Myvi\x00"}):
            body = {"vehicle_type": "car", "vehicle_plate": "WXY 1234"} | change
            response = await app.client.post("/api/v1/runners", json=body, headers=headers)
            assert response.status_code == 400 and response.json()["success"] is False
        headers, _ = await app.register()
        response = await app.client.put("/api/v1/runners/me", headers=headers,
                                        json={"vehicle_model": "Myvi", "version": INT32_MAX + 1})
        assert response.status_code == 400 and response.json()["success"] is False
        shop = await app.client.post("/api/v1/petshops", headers=app.headers("shop"), json={
            "name": "Cozy\x00Paws", "address": "1 Jalan Sultan Ismail", "latitude": 3.1478,
            "longitude": 101.7069, "category": "grooming"})
        assert shop.status_code == 400 and shop.json()["success"] is False
