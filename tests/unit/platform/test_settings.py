from pathlib import Path

import pytest

from kilat.platform.settings import Profile, Settings


def test_embedded_profile_uses_sqlite_files_under_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url("booking") == f"sqlite+aiosqlite:///{tmp_path.resolve()}/data/booking.db"


def test_distributed_profile_uses_one_postgres_database_per_service():
    settings = Settings(profile=Profile.DISTRIBUTED, jwt_private_key_path=Path("/k"),
                        jwt_public_key_path=Path("/k.pub"))
    assert settings.database_url("identity").endswith("/kilat_identity")
    assert settings.database_url("identity").startswith("postgresql+asyncpg://")


def test_serving_the_distributed_profile_refuses_development_keys():
    with pytest.raises(ValueError, match="development keys are refused"):
        Settings(profile=Profile.DISTRIBUTED).check_serving_secrets()


def test_development_keys_are_fine_for_the_embedded_profile(tmp_path):
    settings = Settings(data_dir=tmp_path)
    settings.check_serving_secrets()
    assert settings.profile is Profile.EMBEDDED
    assert settings.private_key_path == tmp_path / "keys" / "jwt-ed25519.pem"


def test_data_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KILAT_DATA_DIR", str(tmp_path))
    assert Settings().data_dir == tmp_path


def test_default_cors_origins_include_the_web_clients():
    assert {"http://localhost:3000", "http://localhost:3001", "http://localhost:3002",
            "http://localhost:8080"} <= set(Settings().cors_origins)
