"""The gateway's route table: which service owns which path prefix (spec §6 and decision 20)."""

from __future__ import annotations

ROUTES: dict[str, str] = {
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
    "/api/v1/rides": "rides",
    "/ws/rides": "rides",
    "/api/v1/parcels": "parcels",
    "/ws/parcels": "parcels",
    "/api/v1/rail": "rail",
}
# Each service's dead-letter admin routes (kilat.platform.events.admin).
ROUTES |= {f"/api/v1/admin/events/{service}": service for service in set(ROUTES.values())}

# The gateway's own endpoints: never forwarded and never rate limited.
EXEMPT_PATHS = frozenset({"/health", "/readiness", "/metrics", "/docs", "/openapi.json"})

_MAX_DEPTH = max(prefix.count("/") for prefix in ROUTES)


def resolve(path: str) -> str | None:
    """The service owning ``path``: the longest table prefix made of whole path segments."""
    service = None
    end = 0
    for _ in range(_MAX_DEPTH):
        end = path.find("/", end + 1)
        service = ROUTES.get(path if end == -1 else path[:end], service)
        if end == -1:
            break
    return service


def is_exempt(path: str) -> bool:
    return path in EXEMPT_PATHS or path.startswith("/docs/")
