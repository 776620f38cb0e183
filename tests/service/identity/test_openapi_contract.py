"""Schemathesis fuzzes every identity operation: never a 5xx, and responses match the OpenAPI."""

from tests.service.identity.support import make_admin
from tests.support.contract import fuzz_openapi
from tests.support.people import bearer, sign_up


async def test_identity_api_never_fails_with_5xx_and_matches_its_schema(identity):
    runtime, client = identity
    owner = bearer((await sign_up(client))["access_token"])
    admin = bearer((await make_admin(runtime, client))["access_token"])

    def headers_for(_method: str, path: str) -> dict:
        return admin if path.startswith("/api/v1/admin") else owner

    fuzzed = await fuzz_openapi(client, headers_for, examples=20)
    assert fuzzed == 21  # 19 identity operations and the two dead-letter admin routes
