"""The supervisor's pure rules: restart backoff, sibling addresses, the children's environment."""

import json

from kilat.platform.settings import Settings
from kilat.supervisor import (
    RESTART_BACKOFF_MAX_SECONDS,
    Child,
    RESTART_BACKOFF_SECONDS,
    STABLE_AFTER_SECONDS,
    child_environment,
    loopback,
    next_backoff,
)


def test_backoff_doubles_up_to_the_cap_while_a_child_keeps_crashing():
    backoff, delays = RESTART_BACKOFF_SECONDS, []
    for _ in range(8):
        delay, backoff = next_backoff(backoff, ran_for=1.0)
        delays.append(delay)
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == RESTART_BACKOFF_MAX_SECONDS == delays[-1]


def test_a_child_that_ran_stably_restarts_at_once_again():
    delay, following = next_backoff(RESTART_BACKOFF_MAX_SECONDS, ran_for=STABLE_AFTER_SECONDS)
    assert (delay, following) == (RESTART_BACKOFF_SECONDS, 2 * RESTART_BACKOFF_SECONDS)


def test_siblings_reach_a_wildcard_bind_over_loopback():
    assert loopback("0.0.0.0") == "127.0.0.1"
    assert loopback("localhost") == "127.0.0.1"
    assert loopback("::") == "[::1]"
    assert loopback("10.0.0.5") == "10.0.0.5"
    assert loopback("fd00::5") == "[fd00::5]"


def test_children_get_the_distributed_profile_and_every_service_url(tmp_path):
    settings = Settings(data_dir=tmp_path, service_urls={"review": "http://reviews.internal:80"})
    ports = {"booking": 9001, "review": 9007, "gateway": 9080}
    env = child_environment(settings, "0.0.0.0", ports)
    assert env["KILAT_PROFILE"] == "distributed"
    assert json.loads(env["KILAT_SERVICE_PORTS"]) == ports
    assert json.loads(env["KILAT_SERVICE_URLS"]) == {
        "booking": "http://127.0.0.1:9001", "review": "http://reviews.internal:80"}


def test_settings_ports_override_the_seed_ports_and_follow_into_urls(tmp_path):
    settings = Settings(data_dir=tmp_path, service_ports={"booking": 9001})
    assert settings.service_port("booking") == 9001
    assert settings.service_port("payment") == 8002
    assert settings.service_url("booking") == "http://127.0.0.1:9001"


def test_the_gateway_is_watched_on_its_own_endpoint_not_its_aggregated_health():
    assert Child("gateway", "0.0.0.0", 8080, env={}).liveness_url == "http://127.0.0.1:8080/metrics"
    assert Child("booking", "0.0.0.0", 8001, env={}).liveness_url == "http://127.0.0.1:8001/health"


def test_passwords_never_reach_the_console():
    from kilat.supervisor import _redact

    assert _redact("postgresql+asyncpg://kilat:s3cret@db:5432") == \
        "postgresql+asyncpg://kilat:***@db:5432"
    assert _redact("redis://cache:6379/0") == "redis://cache:6379/0"
