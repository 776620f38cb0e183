"""Embedded profile: a verifier started after a ban learns it from the durable local bus."""

from datetime import UTC, datetime, timedelta

import pytest

from kilat.contracts.identity import UserBanned
from kilat.platform.auth import TokenVerifier, load_public_key
from kilat.platform.errors import Unauthorized
from kilat.platform.revocations import follow
from kilat.platform.runtime import Infrastructure
from tests.service.identity.support import make_admin
from tests.support.harness import wait_for
from tests.support.people import bearer, sign_up


async def test_a_verifier_started_after_a_ban_refuses_the_banned_users_token(identity, infra):
    runtime, client = identity
    admin = await make_admin(runtime, client)
    banned, other = await sign_up(client), await sign_up(client)
    ban = await client.post(f"/api/v1/admin/users/{banned['user']['id']}/ban",
                            headers=bearer(admin["access_token"]))
    assert ban.status_code == 200
    since = datetime.now(UTC) - timedelta(minutes=1)
    await wait_for(lambda: infra.bus.recent(UserBanned.TYPE, since))  # relayed from the outbox

    restarted = Infrastructure(
        settings=infra.settings, bus=infra.bus, issuer=infra.issuer,
        verifier=TokenVerifier(load_public_key(infra.settings.public_key_path),
                               issuer=infra.settings.jwt_issuer))
    await follow(restarted)
    with pytest.raises(Unauthorized, match="invalid or expired token"):
        restarted.verifier.principal(banned["access_token"])
    assert restarted.verifier.principal(other["access_token"]).email == other["user"]["email"]
