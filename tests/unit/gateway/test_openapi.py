from kilat.gateway.openapi import merge_openapi


def doc(paths: dict, schemas: dict, tags=()) -> dict:
    return {"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas}, "tags": [{"name": t} for t in tags]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}


def test_paths_are_kept_only_for_the_service_the_gateway_routes_them_to():
    merged = merge_openapi({
        "booking": doc({"/api/v1/bookings": {"get": {}}, "/api/v1/auth/login": {"post": {}}}, {}),
        "identity": doc({"/api/v1/auth/login": {"post": {"summary": "login"}}}, {}),
    })
    assert merged["paths"] == {"/api/v1/bookings": {"get": {}},
                               "/api/v1/auth/login": {"post": {"summary": "login"}}}


def test_identical_schemas_are_shared_and_different_ones_are_prefixed():
    booking = doc({"/api/v1/bookings": {"get": {"responses": {"200": {"content": {
        "application/json": {"schema": ref("Address")}}}}}}},
        {"Address": {"type": "object", "properties": {"street": {"type": "string"}}},
         "ErrorBody": ERROR})
    runner = doc({"/api/v1/runners": {"get": {"responses": {"200": {"content": {
        "application/json": {"schema": ref("Address")}}}}}}},
        {"Address": {"type": "object", "properties": {"lat": {"type": "number"}}},
         "ErrorBody": ERROR})
    merged = merge_openapi({"booking": booking, "runner": runner})
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"Address", "runner_Address", "ErrorBody"}
    assert schemas["runner_Address"]["properties"] == {"lat": {"type": "number"}}
    runner_ref = merged["paths"]["/api/v1/runners"]["get"]["responses"]["200"]["content"]
    assert runner_ref["application/json"]["schema"] == ref("runner_Address")
    booking_ref = merged["paths"]["/api/v1/bookings"]["get"]["responses"]["200"]["content"]
    assert booking_ref["application/json"]["schema"] == ref("Address")


def test_a_schema_that_only_differs_through_a_renamed_reference_is_prefixed_too():
    booking = doc({}, {"Pet": {"properties": {"owner": ref("Owner")}}, "Owner": {"type": "string"}})
    review = doc({}, {"Pet": {"properties": {"owner": ref("Owner")}}, "Owner": {"type": "integer"}})
    schemas = merge_openapi({"booking": booking, "review": review})["components"]["schemas"]
    assert schemas["review_Pet"] == {"properties": {"owner": ref("review_Owner")}}
    assert schemas["Pet"] == {"properties": {"owner": ref("Owner")}}


def test_tags_are_merged_without_duplicates():
    merged = merge_openapi({"booking": doc({}, {}, ["bookings", "admin"]),
                            "payment": doc({}, {}, ["payments", "admin"])})
    assert [t["name"] for t in merged["tags"]] == ["bookings", "admin", "payments"]
