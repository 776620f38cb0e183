import pytest

from kilat.gateway.routes import ROUTES, is_exempt, resolve
from kilat.platform.events.admin import dead_letter_router
from kilat.services import SERVICES, load_descriptor

def service_paths(name: str) -> list[str]:
    """Every HTTP and WebSocket path a service serves, its dead-letter admin routes included."""
    descriptor = load_descriptor(name)
    routers = [*descriptor.routers, dead_letter_router(name)]
    return [route.path for router in routers for route in router.routes]


@pytest.mark.parametrize("name", SERVICES)
def test_every_route_of_a_service_reaches_that_service(name):
    assert {path: resolve(path) for path in service_paths(name)} == \
        {path: name for path in service_paths(name)}


@pytest.mark.parametrize(("prefix", "service"), ROUTES.items())
def test_every_prefix_leads_to_routes_its_service_serves(prefix, service):
    assert any(path == prefix or path.startswith(f"{prefix}/") for path in service_paths(service))


@pytest.mark.parametrize(("prefix", "service"), ROUTES.items())
def test_bare_prefix_resolves_to_its_service(prefix, service):
    assert resolve(prefix) == service


@pytest.mark.parametrize(("prefix", "service"), ROUTES.items())
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
