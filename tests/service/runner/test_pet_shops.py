"""Pet shops: CRUD with ownership, listing by category, nearby, and the demo seed."""

import uuid

from kilat.services.runner.demo import DEMO_SHOPS
from kilat.services.runner.service import seed_demo_shops
from tests.service.runner.support import KLCC, offset

SHOP = {"name": "Cozy Paws", "address": "1 Jalan Sultan Ismail, Kuala Lumpur",
        "latitude": 3.1478, "longitude": 101.7069, "phone": "+60321234567",
        "email": "hi@cozypaws.example.my", "category": "grooming",
        "services": ["bath", "nail trim"], "opening_hours": "Daily 10:00-18:00",
        "description": "Small and friendly."}


async def create(app, headers, **body):
    response = await app.client.post("/api/v1/petshops", json=SHOP | body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def test_a_shop_owner_creates_reads_edits_and_deletes_a_shop(app):
    owner_id = uuid.uuid4()
    headers = app.headers("shop", owner_id)
    shop = await create(app, headers)
    assert shop["owner_id"] == str(owner_id) and shop["rating"] == 0.0
    assert shop["services"] == ["bath", "nail trim"] and shop["version"] == 1
    url = f"/api/v1/petshops/{shop['id']}"
    read = await app.client.get(url, headers=app.headers("owner"))
    assert read.json()["data"] == shop
    edited = await app.client.put(url, headers=headers, json={"phone": "+60399999999",
                                                              "category": "vet"})
    data = edited.json()["data"]
    assert (data["phone"], data["category"], data["name"], data["version"]) == (
        "+60399999999", "vet", "Cozy Paws", 2)
    deleted = await app.client.delete(url, headers=headers)
    assert deleted.json()["data"] == {"message": "pet shop deleted"}
    gone = await app.client.get(url, headers=headers)
    assert gone.status_code == 404 and gone.json()["error"] == "pet shop not found"


async def test_ownership_matrix_for_changing_a_shop(app):
    owner = app.headers("shop")
    shop = await create(app, owner)
    url = f"/api/v1/petshops/{shop['id']}"
    for headers, expected in ((app.headers("shop"), 403), (app.headers("owner"), 403),
                              (app.headers("runner"), 403), ({}, 401)):
        put = await app.client.put(url, json={"name": "Taken"}, headers=headers)
        delete = await app.client.delete(url, headers=headers)
        assert (put.status_code, delete.status_code) == (expected, expected), headers
    stranger = await app.client.put(url, json={"name": "Taken"}, headers=app.headers("shop"))
    assert stranger.json()["error"] == "you do not own this pet shop"
    admin = await app.client.put(url, json={"name": "By Admin"}, headers=app.headers("admin"))
    assert admin.status_code == 200
    read = await app.client.get(url, headers=owner)
    assert read.json()["data"]["name"] == "By Admin"
    assert (await app.client.delete(url, headers=app.headers("admin"))).status_code == 200


async def test_only_shop_users_and_admins_create_shops(app):
    for role, expected in (("owner", 403), ("runner", 403), ("shop", 201), ("admin", 201)):
        response = await app.client.post("/api/v1/petshops", json=SHOP, headers=app.headers(role))
        assert response.status_code == expected, role


async def test_invalid_shops_are_400_and_nothing_changes(app):
    headers = app.headers("shop")
    for body in ({"category": "zoo"}, {"name": ""}, {"latitude": 95}, {"latitude": 0, "longitude": 0},
                 {"email": "not-an-email"}, {"address": "   "}):
        response = await app.client.post("/api/v1/petshops", json=SHOP | body, headers=headers)
        assert response.status_code == 400, body
    missing = {k: v for k, v in SHOP.items() if k != "name"}
    assert (await app.client.post("/api/v1/petshops", json=missing, headers=headers)).status_code == 400
    shop = await create(app, headers)
    url = f"/api/v1/petshops/{shop['id']}"
    for body in ({"category": "zoo"}, {"name": None}, {"longitude": 200}, {"latitude": 0.0,
                                                                           "longitude": 0.0}):
        assert (await app.client.put(url, json=body, headers=headers)).status_code == 400, body
    assert (await app.client.get(url, headers=headers)).json()["data"] == shop


async def test_a_stale_version_is_409(app):
    headers = app.headers("shop")
    shop = await create(app, headers)
    url = f"/api/v1/petshops/{shop['id']}"
    assert (await app.client.put(url, json={"name": "A", "version": 1}, headers=headers)).status_code == 200
    stale = await app.client.put(url, json={"name": "B", "version": 1}, headers=headers)
    assert stale.status_code == 409
    assert (await app.client.get(url, headers=headers)).json()["data"]["name"] == "A"


async def test_list_is_best_rated_first_with_a_category_filter(app):
    async with app.runtime.database.session() as session:
        assert await seed_demo_shops(session) == 7
    async with app.runtime.database.session() as session:
        assert await seed_demo_shops(session) == 0
    await create(app, app.headers("shop"))
    everyone = app.headers("runner")
    listed = (await app.client.get("/api/v1/petshops", headers=everyone)).json()
    ratings = [s["rating"] for s in listed["data"]]
    assert ratings == sorted(ratings, reverse=True) and listed["pagination"]["total"] == 8
    vets = (await app.client.get("/api/v1/petshops?category=vet", headers=everyone)).json()
    assert [s["name"] for s in vets["data"]] == ["KL Pet Clinic", "Furry Friends Vet"]
    page = (await app.client.get("/api/v1/petshops?page=2&limit=3", headers=everyone)).json()
    assert page["pagination"] == {"total": 8, "page": 2, "limit": 3, "total_pages": 3}
    bad = await app.client.get("/api/v1/petshops?category=zoo", headers=everyone)
    assert bad.status_code == 400
    assert all(s["owner_id"] is None for s in vets["data"])


async def test_mine_lists_only_the_callers_shops_newest_first(app):
    mine = app.headers("shop")
    first = await create(app, mine, name="First")
    second = await create(app, mine, name="Second")
    await create(app, app.headers("shop"), name="Someone else's")
    listed = (await app.client.get("/api/v1/petshops/mine", headers=mine)).json()
    assert [s["id"] for s in listed["data"]] == [second["id"], first["id"]]
    assert (await app.client.get("/api/v1/petshops/mine", headers=app.headers("owner"))).status_code == 403


async def test_nearby_shops_are_nearest_first_within_ten_km_by_default(app):
    headers = app.headers("shop")
    ids = {km: (await create(app, headers, name=f"{km} km", latitude=offset(KLCC, km)[0],
                             longitude=KLCC[1]))["id"] for km in (7, 2, 12, 0.5)}
    response = await app.client.get("/api/v1/petshops/nearby", headers=app.headers("owner"),
                                    params={"latitude": KLCC[0], "longitude": KLCC[1]})
    found = response.json()["data"]
    assert [s["id"] for s in found] == [ids[0.5], ids[2], ids[7]]
    assert [round(s["distance_km"], 2) for s in found] == [0.5, 2.0, 7.0]
    wide = await app.client.get("/api/v1/petshops/nearby", headers=app.headers("owner"),
                                params={"latitude": KLCC[0], "longitude": KLCC[1],
                                        "radius_km": 15, "limit": 2})
    assert [s["id"] for s in wide.json()["data"]] == [ids[0.5], ids[2]]
    for params in ({"latitude": KLCC[0]}, {"latitude": 0, "longitude": 0},
                   {"latitude": KLCC[0], "longitude": KLCC[1], "radius_km": 0},
                   {"latitude": KLCC[0], "longitude": KLCC[1], "limit": 500}):
        bad = await app.client.get("/api/v1/petshops/nearby", params=params,
                                   headers=app.headers("owner"))
        assert bad.status_code == 400, params


async def test_seeded_demo_shops_are_the_seven_from_the_contract(app):
    async with app.runtime.database.session() as session:
        await seed_demo_shops(session)
    listed = (await app.client.get("/api/v1/petshops?limit=50", headers=app.headers())).json()
    assert sorted(s["name"] for s in listed["data"]) == sorted(s["name"] for s in DEMO_SHOPS)
    assert {s["rating"] for s in listed["data"]} <= {4.2, 4.3, 4.4, 4.5, 4.6, 4.7, 4.8}
    shop = listed["data"][0]
    edit = await app.client.put(f"/api/v1/petshops/{shop['id']}", json={"name": "Mine now"},
                                headers=app.headers("shop"))
    assert edit.status_code == 403
