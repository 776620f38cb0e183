"""The distributed profile signs rail tickets with the one configured key, never a dev key."""

from types import SimpleNamespace

import pytest

from kilat.platform.auth import generate_keypair
from kilat.platform.settings import Profile, Settings
from kilat.services.rail.context import rail_context
from kilat.services.rail.settings import RailSettings


def _runtime(tmp_path, rail: RailSettings, **platform):
    settings = Settings(data_dir=tmp_path, profile=Profile.DISTRIBUTED, **platform)
    infra = SimpleNamespace(settings=settings, redis=None)
    return SimpleNamespace(infra=infra, own_settings=lambda: rail,
                           database=SimpleNamespace(url="sqlite+aiosqlite:///x"))


def test_distributed_rail_refuses_a_development_key(tmp_path):
    with pytest.raises(ValueError, match="KILAT_RAIL_QR_PRIVATE_KEY_PATH"):
        rail_context(_runtime(tmp_path, RailSettings()))
    assert not (tmp_path / "keys").exists() or not any((tmp_path / "keys").iterdir())


def test_distributed_rail_signs_with_the_configured_key(tmp_path):
    private, public = tmp_path / "rail.pem", tmp_path / "rail.pub.pem"
    generate_keypair(private, public)
    context = rail_context(_runtime(tmp_path, RailSettings(qr_private_key_path=private,
                                                           qr_public_key_path=public)))
    assert context.signer is not None


def test_development_keys_may_be_allowed_explicitly(tmp_path):
    context = rail_context(_runtime(tmp_path, RailSettings(), allow_dev_secrets=True))
    assert context.signer is not None
