import pytest

from kilat.gateway.routes import ROUTES, is_exempt, resolve

EXPECTED = {
    "/.well-known/jwks.json": "identity",
    "/api/v1/auth": "identity",
    "/api/v1/referrals": "identity",
    "/api/v1/runners/apply": "identity",
    "/api/v1/admin/users": "identity",
    "/api/v1/admin/stats/users": "identity",
    "/api/v1/bookings": "booking",
    "/api/v1/pets": "booking",
    "/api/v1/admin/bookings": "booking",
    "/api/v1/admin/stats/bookings": "booking",
    "/api/v1/payments": "payment",
    "/api/v1/promos": "payment",
    "/api/v1/subscriptions": "payment",
    "/api/v1/payouts": "payment",
    "/api/v1/admin/payments": "payment",
    "/api/v1/admin/stats/payments": "payment",
    "/api/v1/admin/promos": "payment",
    "/api/v1/runners": "runner",
    "/api/v1/petshops": "runner",
    "/api/v1/tracking": "tracking",
    "/api/v1/chat": "tracking",
    "/ws/tracking": "tracking",
    "/api/v1/notifications": "notification",
    "/api/v1/admin/notifications": "notification",
    "/api/v1/reviews": "review",
    "/api/v1/admin/reviews": "review",
    "/api/v1/admin/events/identity": "identity",
    "/api/v1/admin/events/booking": "booking",
    "/api/v1/admin/events/payment": "payment",
    "/api/v1/admin/events/runner": "runner",
    "/api/v1/admin/events/tracking": "tracking",
    "/api/v1/admin/events/notification": "notification",
    "/api/v1/admin/events/review": "review",
}


def test_table_is_exactly_the_documented_routes():
    assert ROUTES == EXPECTED


@pytest.mark.parametrize(("prefix", "service"), EXPECTED.items())
def test_bare_prefix_resolves_to_its_service(prefix, service):
    assert resolve(prefix) == service


@pytest.mark.parametrize(("prefix", "service"), EXPECTED.items())
def test_paths_below_a_prefix_resolve_to_its_service(prefix, service):
    assert resolve(f"{prefix}/") == service
    assert resolve(f"{prefix}/0b9c/actions/deep") == service


def test_runner_application_goes_to_identity_but_other_runner_paths_to_runner():
    assert resolve("/api/v1/runners/apply") == "identity"
    assert resolve("/api/v1/runners/apply/status") == "identity"
    assert resolve("/api/v1/runners/me/location") == "runner"
    assert resolve("/api/v1/runners/applyx") == "runner"


def test_admin_stats_split_between_services():
    assert resolve("/api/v1/admin/stats/users") == "identity"
    assert resolve("/api/v1/admin/stats/bookings") == "booking"
    assert resolve("/api/v1/admin/stats/payments") == "payment"
    assert resolve("/api/v1/admin/stats") is None


@pytest.mark.parametrize("path", [
    "/api/v1/bookingsX", "/api/v1/bookings-old/1", "/api/v1", "/api", "/", "", "/unknown",
    "/api/v2/bookings", "/ws/chat", "/api/v1/admin", "/api/v1/admin/stats/usersX",
    "/.well-known/openid-configuration",
])
def test_paths_outside_the_table_resolve_to_nothing(path):
    assert resolve(path) is None


@pytest.mark.parametrize("path", ["/health", "/readiness", "/metrics", "/docs", "/openapi.json",
                                  "/docs/oauth2-redirect"])
def test_gateway_endpoints_are_exempt(path):
    assert is_exempt(path)


@pytest.mark.parametrize("path", ["/api/v1/bookings", "/healthz", "/api/v1/health", "/metricsx"])
def test_other_paths_are_not_exempt(path):
    assert not is_exempt(path)
