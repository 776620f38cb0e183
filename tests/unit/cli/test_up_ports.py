"""`kilat up` on a port that is taken stops at once with one clear line, before any migration."""

import os
import socket
import subprocess
import sys
from contextlib import contextmanager

from tests.support.harness import free_port


@contextmanager
def listening_socket():
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        yield port


def kilat_up(*args: str, data_dir, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("KILAT_")}
    return subprocess.run(
        [sys.executable, "-m", "kilat", "up", "--data-dir", str(data_dir), *args],
        env=clean | {"KILAT_LOG_JSON": "false", "COLUMNS": "200"} | env,
        capture_output=True, text=True, timeout=120)


def test_embedded_up_on_a_taken_gateway_port_fails_at_once_without_migrating(tmp_path):
    with listening_socket() as port:
        result = kilat_up("--port", str(port), data_dir=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip() == (
        f"port {port} is in use (gateway on 127.0.0.1: Address already in use); "
        "set --port or KILAT_SERVICE_PORTS")
    assert not list(tmp_path.rglob("*.db"))  # no service database was created or migrated


def test_distributed_up_checks_every_service_port_before_anything_else(tmp_path):
    with listening_socket() as port:
        result = kilat_up(
            "--distributed", "--port", str(free_port()), data_dir=tmp_path,
            KILAT_ALLOW_DEV_SECRETS="true", KILAT_SERVICE_PORTS=f'{{"review": {port}}}',
            KILAT_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # never reached
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip() == (
        f"port {port} is in use (review on 127.0.0.1: Address already in use); "
        "set --port or KILAT_SERVICE_PORTS")
