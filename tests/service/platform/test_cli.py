"""The kilat command on the embedded profile: data dir, admin creation, argument errors."""

import httpx
from asgi_lifespan import LifespanManager

from kilat.app import build_embedded_app
from tests.support.cli import kilat
from tests.support.harness import make_settings


def test_migrate_refuses_an_unknown_service(tmp_path):
    result = kilat("--data-dir", str(tmp_path), "migrate", "nosuch")
    assert result.returncode == 2
    assert "unknown service" in result.stdout


async def test_admin_created_by_the_cli_logs_in_on_the_platform_using_the_same_data_dir(tmp_path):
    result = kilat("admin", "create", "--email", "root@example.com", "--password", "sup3r-secret",
                   env={"KILAT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr + result.stdout
    app = build_embedded_app(make_settings(tmp_path), services=["identity"])
    async with LifespanManager(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://kilat") as client:
            login = await client.post("/api/v1/auth/login",
                                      json={"email": "root@example.com", "password": "sup3r-secret"})
            assert login.status_code == 200, login.text
            assert login.json()["data"]["user"]["role"] == "admin"
            stats = await client.get("/api/v1/admin/stats/users", headers={
                "Authorization": f"Bearer {login.json()['data']['access_token']}"})
            assert stats.status_code == 200


def test_admin_create_rejects_a_weak_password(tmp_path):
    result = kilat("admin", "create", "--email", "root@example.com", "--password", "short",
                   env={"KILAT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
