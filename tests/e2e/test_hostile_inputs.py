"""Hostile input on every route of the platform, in both profiles (issue 13, "Done when").

The cases come from the gateway's merged OpenAPI at test time (tests/support/hostile.py): NUL and
control characters in every string, 64-bit overflows and NaN in every number, coordinates at and
beyond the poles and the antimeridian, ``javascript:`` URLs, extreme dates, hostile path segments,
and a JSON body one byte over ``KILAT_MAX_BODY_BYTES`` on every JSON route, with and without a
Content-Length. Every answer must be below 500, every 4xx must be the envelope, and meanwhile
every service must keep answering /health within 100 ms. Each test reports all its offenders at
once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.e2e import journey as j
from tests.e2e.platform import Platform
from tests.support.hostile import (
    JSON,
    Case,
    Operation,
    Spec,
    cases,
    chunks,
    envelope_problem,
    oversized_json,
)
from tests.support.responsiveness import ResponsivenessProbe, answer_time

LAG_LIMIT_SECONDS = 0.1
REQUEST_TIMEOUT_SECONDS = 10.0
STALL_GRACE_SECONDS = 15.0
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
ROLES = ("owner", "runner", "shop", "admin")
RUNNER_PATHS = ("/api/v1/runners/me", "/api/v1/payouts")
RUNNER_STEPS = ("/accept", "/pickup", "/deliver", "/decline", "/photo", "/photos/upload")


@dataclass
class World:
    """A platform with one user per role and one real resource of each kind to aim at."""

    platform: Platform
    spec: Spec
    users: dict[str, j.User]
    owner_email: str
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def max_body_bytes(self) -> int:
        return int(self.platform.env.get("KILAT_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))

    def operations(self) -> list[Operation]:
        return self.spec.operations()

    def health_targets(self) -> dict[str, str]:
        targets = {"gateway": f"{self.platform.url}/health"}
        if self.platform.profile == "distributed":
            targets |= {name: f"http://127.0.0.1:{child['port']}/health"
                        for name, child in self.platform.children().items()}
        return targets

    def probe(self) -> ResponsivenessProbe:
        """A /health probe of every process, which knows each one's pid."""
        pids = {"gateway": self.platform.process.pid}
        if self.platform.profile == "distributed":
            pids |= {name: child["pid"] for name, child in self.platform.children().items()}
        return ResponsivenessProbe(self.health_targets(), pids)


@dataclass(frozen=True)
class Offence:
    case: str
    status: str
    problem: str

    def __str__(self) -> str:
        return f"{self.case} -> {self.status}: {self.problem}"


@pytest.fixture(scope="module")
def world(platform: Platform) -> Iterator[World]:
    built = _build_world(platform)
    try:
        yield built
    finally:
        for user in built.users.values():
            user.http.close()


def test_hostile_fields_and_parameters_get_an_enveloped_4xx_never_a_5xx(world: World):
    with world.probe() as probe:
        offences = _collect(_drive(world, probe, operation) for operation in world.operations())
    offences += _lag_offences(world, probe)
    _assert_none(world, offences, "hostile fields and parameters")


def test_a_body_over_the_limit_gets_an_enveloped_413_on_every_json_route(world: World):
    limit = world.max_body_bytes
    with world.probe() as probe:
        offences = _collect(_drive_oversized(world, probe, operation, limit)
                            for operation in world.operations() if operation.content_type == JSON)
    offences += _lag_offences(world, probe)
    _assert_none(world, offences, f"bodies of {limit + 1} bytes")


# --- driving the cases ---------------------------------------------------------------------------


class PlatformStalled(Exception):
    """The platform stopped answering: every later case would only wait for its timeout."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.offence = Offence(label, "-", "the platform stopped answering /health for "
                               f"{STALL_GRACE_SECONDS:g} s; the remaining cases were not sent")


def _collect(groups: Iterable[Iterable[Offence]]) -> list[Offence]:
    """Every offence of every group, until the platform stops answering altogether."""
    found: list[Offence] = []
    try:
        for group in groups:
            for offence in group:
                found.append(offence)
    except PlatformStalled as stalled:
        found.append(stalled.offence)
    return found


def _drive(world: World, probe: ResponsivenessProbe, operation: Operation) -> Iterator[Offence]:
    for case in cases(world.spec, operation, _overrides(world, operation)):
        label = f"{_name(operation)} [{case.label}]"
        probe.during = label
        role = _role_of(world, case)
        yield from _checked(world, label, _offences(
            label, case, _send(world.users[role], case.request())))


def _drive_oversized(world: World, probe: ResponsivenessProbe, operation: Operation,
                     limit: int) -> Iterator[Offence]:
    oversized = oversized_json(limit)
    baseline = next(cases(world.spec, operation, _overrides(world, operation)))
    user = world.users[_role_of(world, baseline)]
    for how, content in (("Content-Length", oversized), ("chunked", chunks(oversized))):
        label = f"{_name(operation)} [{limit + 1} bytes, {how}]"
        probe.during = label
        yield from _checked(world, label, _oversized_offences(user, baseline, label, content))


def _checked(world: World, label: str, offences: list[Offence]) -> list[Offence]:
    """``offences``, unless a request went unanswered and the platform no longer answers."""
    if any(offence.problem.startswith("no answer") for offence in offences):
        if not _answers(world.platform.url, STALL_GRACE_SECONDS):
            raise PlatformStalled(label)
    return offences


def _answers(url: str, within: float) -> bool:
    deadline = time.monotonic() + within
    with httpx.Client(timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline:
            if answer_time(client, f"{url}/health") < 2:
                return True
    return False


def _role_of(world: World, baseline: Case) -> str:
    """The first likely role the route does not refuse (401/403) for the baseline request."""
    key = baseline.operation.key
    if key not in world.roles:
        candidates = _likely_roles(baseline.operation)
        world.roles[key] = candidates[0]
        for role in candidates:
            response = _send(world.users[role], baseline.request())
            if not isinstance(response, httpx.Response) or response.status_code not in (401, 403):
                world.roles[key] = role
                break
    return world.roles[key]


def _likely_roles(operation: Operation) -> list[str]:
    path, method = operation.path, operation.method
    if path in ("/api/v1/auth/refresh", "/api/v1/auth/logout"):
        return ["leaver"]  # its sessions end here, not the owner's
    if "/admin/" in path or (method, path) == ("POST", "/api/v1/promos"):
        first = "admin"
    elif path.startswith(RUNNER_PATHS) or (method, path) == ("POST", "/api/v1/runners") \
            or path.endswith(RUNNER_STEPS):
        first = "runner"
    elif path.startswith("/api/v1/petshops") and (method != "GET" or path.endswith("/mine")):
        first = "shop"
    else:
        first = "owner"
    return [first, *(role for role in ROLES if role != first)]


def _send(user: j.User, request: dict) -> httpx.Response | str:
    try:
        return user.http.request(**request, timeout=REQUEST_TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        return f"no answer within {REQUEST_TIMEOUT_SECONDS:g} s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"


def _offences(label: str, case: Case, response: httpx.Response | str) -> list[Offence]:
    if isinstance(response, str):
        return [Offence(label, "-", response)]
    status = response.status_code
    if status >= 500:
        return [Offence(label, str(status), response.text[:160])]
    if status < 400:
        return [Offence(label, str(status), "accepted")] if case.must_refuse else []
    problem = envelope_problem(status, response.text)
    return [Offence(label, str(status), problem)] if problem else []


def _oversized_offences(user: j.User, baseline: Case, label: str, content) -> list[Offence]:
    request = baseline.request() | {"content": content}
    response = _send(user, request)
    if isinstance(response, httpx.Response) and response.status_code != 413:
        problem = envelope_problem(response.status_code, response.text) or "envelope"
        return [Offence(label, str(response.status_code), f"expected 413 ({problem})")]
    return _offences(label, baseline, response)


def _lag_offences(world: World, probe: ResponsivenessProbe) -> list[Offence]:
    """Stalls seen during the barrage, then whether every service answers promptly after it."""
    offences = [Offence(f"/health of {stall.target} during {stall.during}",
                        f"{stall.seconds * 1000:.0f} ms",
                        f"slower than 100 ms, of which {stall.queued * 1000:.0f} ms waiting for "
                        f"a CPU and the test itself {stall.own_lag * 1000:.0f} ms late")
                for stall in probe.stalls(LAG_LIMIT_SECONDS)]
    with httpx.Client(timeout=5, trust_env=False) as client:
        for target, url in world.health_targets().items():
            after = min(answer_time(client, url) for _ in range(3))
            if after >= LAG_LIMIT_SECONDS:
                offences.append(Offence(f"/health of {target} after the barrage",
                                        f"{after * 1000:.0f} ms", "slower than 100 ms"))
    return offences


def _assert_none(world: World, offences: Iterable[Offence], what: str) -> None:
    found = list(offences)
    if found:
        pytest.fail(f"{world.platform.profile}: {len(found)} offences with {what}:\n"
                    + "\n".join(f"  {offence}" for offence in found), pytrace=False)


def _name(operation: Operation) -> str:
    return f"{operation.method} {operation.path}"


# --- the world the cases aim at ------------------------------------------------------------------


def _build_world(platform: Platform) -> World:
    url = platform.url
    users = {"owner": j.register(url, "owner", "Hostile Owner"), "runner": j.ready_runner(url),
             "shop": j.register(url, "shop", "Hostile Shop"), "admin": j.admin(platform),
             "victim": j.register(url, "owner", "Hostile Victim")}
    leaver, refresh_token = _registered_with_refresh_token(url)
    users["leaver"] = leaver
    spec = Spec(j.client(url).get("/openapi.json").json())
    spec.hints.update(_hints(users, refresh_token))
    spec.hints.update(_resources(spec, users))
    return World(platform, spec, users, users["owner"].email)


def _registered_with_refresh_token(url: str) -> tuple[j.User, str]:
    email = f"leaver-{uuid.uuid4().hex[:10]}@example.com"
    with j.client(url) as anonymous:
        auth = j.body(anonymous.post("/api/v1/auth/register", json={
            "email": email, "password": j.PASSWORD, "full_name": "Hostile Leaver",
            "role": "owner"}), 201)
    return j.signed_in(url, auth), auth["refresh_token"]


def _hints(users: dict[str, j.User], refresh_token: str) -> dict:
    def fresh(prefix: str) -> Callable[[], str]:
        return lambda: f"{prefix}{uuid.uuid4().hex[:10]}"

    return {
        "email": lambda: f"hostile-{uuid.uuid4().hex[:10]}@example.com",
        "password": j.PASSWORD, "newPassword": f"{j.PASSWORD}-2", "refresh_token": refresh_token,
        "phone": "+60123456789", "phone_number": "+60123456789", "account_number": "1234567890",
        "currency": "MYR", "quiet_hours_start": "22:00", "quiet_hours_end": "07:00",
        "timezone": "Asia/Kuala_Lumpur", "referral_code": None, "version": None,
        "code": fresh("HOSTILE"), "token": fresh("token"), "key": "missing.jpg",
        "runner_id": users["runner"].id, "owner_id": users["owner"].id,
        "user_id": users["victim"].id,
    }


def _resources(spec: Spec, users: dict[str, j.User]) -> dict:
    owner, runner, shop = users["owner"], users["runner"], users["shop"]
    booking = j.create_booking(owner)
    pet = j.body(owner.post("/api/v1/pets", {"name": "Rex", "pet_type": "dog",
                                             "weight_kg": 18.5}), 201)
    payment = j.pay(owner, booking["id"])
    destination = j.body(runner.post("/api/v1/payouts/destinations", {
        "bank_name": "Maybank", "account_name": "Hostile Runner",
        "account_number": "1234567890"}), 201)
    crate = j.body(runner.get("/api/v1/runners/me/crates"))[0]
    schema = spec.document["components"]["schemas"]["PetShopCreate"]
    petshop = j.body(shop.post("/api/v1/petshops", spec.example(schema)), 201)
    return {"booking_id": booking["id"], "pet_id": pet["id"], "payment_id": payment["id"],
            "destination_id": destination["id"], "destinationId": destination["id"],
            "crate_id": crate["id"], "shop_id": petshop["id"]}


def _overrides(world: World, operation: Operation) -> dict:
    """Per route: the owner's own email to log in with; random ids for DELETE, so the resources
    other routes aim at survive."""
    if operation.key in ("POST /api/v1/auth/login", "POST /api/v1/auth/forgot-password"):
        return {"email": world.owner_email}
    if operation.method == "DELETE":
        return {p["name"]: (lambda: str(uuid.uuid4())) for p in operation.parameters
                if p["in"] == "path"}
    return {}
