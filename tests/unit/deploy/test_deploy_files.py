"""The deployment files agree with the code: service names, ports, settings and probe paths."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
import yaml

from kilat.platform.settings import SERVICE_PORTS
from kilat.services import SERVICES

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SETTINGS_CLASSES = [
    ("kilat.platform.settings", "Settings"), ("kilat.platform.storage", "StorageSettings"),
    ("kilat.services.booking.settings", "BookingSettings"),
    ("kilat.services.payment.settings", "PaymentSettings"),
    ("kilat.services.runner.settings", "RunnerSettings"),
    ("kilat.services.tracking.settings", "TrackingSettings"),
    ("kilat.services.notification.settings", "NotificationSettings"),
    ("kilat.services.review.settings", "ReviewSettings"),
    ("kilat.services.rides.settings", "RidesSettings"),
    ("kilat.services.parcels.settings", "ParcelsSettings"),
    ("kilat.services.rail.settings", "RailSettings"),
]
KERNEL_PATHS = {"/health", "/readiness", "/metrics"}


def known_settings() -> set[str]:
    names = set()
    for module, cls in SETTINGS_CLASSES:
        settings = getattr(importlib.import_module(module), cls)
        prefix = settings.model_config["env_prefix"]
        names |= {f"{prefix}{field.upper()}" for field in settings.model_fields}
    return names


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def k8s() -> list[dict]:
    return list(yaml.safe_load_all((DEPLOY / "k8s" / "kilat.yaml").read_text()))


def _serve_args(command: list[str]) -> tuple[str, int]:
    assert command[0] == "serve", command
    return command[1], int(command[command.index("--port") + 1])


def test_compose_runs_every_service_on_its_port_with_known_settings(compose):
    services = compose["services"]
    for name in [*SERVICES, "gateway"]:
        assert _serve_args(services[name]["command"]) == (name, SERVICE_PORTS[name])
        assert set(services[name]["environment"]) <= known_settings()
    urls = json.loads(services["gateway"]["environment"]["KILAT_SERVICE_URLS"])
    assert urls == {name: f"http://{name}:{SERVICE_PORTS[name]}" for name in SERVICES}
    assert services["migrate"]["command"] == ["migrate", "--distributed"]


def test_compose_gives_the_private_key_to_identity_only(compose):
    for name in [*SERVICES, "gateway"]:
        mounts = " ".join(compose["services"][name]["volumes"])
        assert "jwt-ed25519.pub.pem" in mounts or name == "identity"
        assert ("jwt-ed25519.pem:" in mounts or "./keys:" in mounts) == (name == "identity"), name


def test_kubernetes_has_a_probed_deployment_and_a_service_per_kilat_service(k8s):
    deployments = {d["metadata"]["name"]: d for d in k8s if d["kind"] == "Deployment"}
    services = {s["metadata"]["name"]: s for s in k8s if s["kind"] == "Service"}
    for name in [*SERVICES, "gateway"]:
        container = deployments[f"kilat-{name}"]["spec"]["template"]["spec"]["containers"][0]
        assert _serve_args(container["args"]) == (name, SERVICE_PORTS[name])
        assert services[f"kilat-{name}"]["spec"]["ports"][0]["port"] == SERVICE_PORTS[name]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readiness"
        liveness = container["livenessProbe"]["httpGet"]["path"]
        assert liveness == ("/metrics" if name == "gateway" else "/health"), \
            "a gateway must not be restarted because an upstream is down"
        assert {liveness, container["startupProbe"]["httpGet"]["path"]} <= KERNEL_PATHS


def test_kubernetes_configuration_names_only_known_settings(k8s):
    config = next(d for d in k8s if d["kind"] == "ConfigMap")["data"]
    secret = next(d for d in k8s if d["kind"] == "Secret")["stringData"]
    assert set(config) | set(secret) <= known_settings()
    urls = json.loads(config["KILAT_SERVICE_URLS"])
    assert urls == {name: f"http://kilat-{name}:{SERVICE_PORTS[name]}" for name in SERVICES}


def test_procfile_serves_every_service_on_its_port():
    lines = [line for line in (DEPLOY / "Procfile").read_text().splitlines()
             if line and not line.startswith("#")]
    served = {}
    for line in lines:
        name, command = line.split(":", 1)
        match = re.fullmatch(r" kilat serve (\w+) --host 0\.0\.0\.0 --port (\d+)", command)
        assert match and match[1] == name, line
        served[name] = int(match[2])
    assert served == {name: SERVICE_PORTS[name] for name in [*SERVICES, "gateway"]}
