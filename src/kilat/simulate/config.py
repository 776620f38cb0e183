"""How big, how long and how busy a simulated city is, and which verticals live in it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

VERTICALS = ("pets", "rides", "parcels", "rail")
ROLES = {"pets": ("owners", "runners"), "rides": ("passengers", "drivers"),
         "parcels": ("customers", "couriers"), "rail": ("travellers",)}


@dataclass(frozen=True)
class SimulationConfig:
    owners: int = 20
    runners: int = 10
    minutes: float = 2.0
    seed: int = 1
    tick_seconds: float = 1.0
    signups_per_tick: int = 4
    ping_every_ticks: int = 2
    poll_every_ticks: int = 3
    check_every_ticks: int = 5
    think_ticks: tuple[int, int] = (3, 20)
    leg_ticks: tuple[int, int] = (8, 20)
    give_up_ticks: int = 90
    search_radius_km: float = 10.0
    max_trip_km: float = 8.0
    cancel_rate: float = 0.06
    decline_rate: float = 0.05
    promo_rate: float = 0.3
    share_rate: float = 0.25
    follow_up_seconds: float = 15.0
    # which verticals run (each must be served by the platform) and their people
    verticals: tuple[str, ...] = ("pets",)
    passengers: int = 6
    drivers: int = 4
    customers: int = 6
    couriers: int = 4
    travellers: int = 6
    # rides: a ride's length, and the speed a driver's track is metered at (the meter drops fixes
    # faster than KILAT_RIDES_MAX_SPEED_KMH, 160 by default, judged on the server's clock)
    ride_km: tuple[float, float] = (1.1, 2.5)
    ride_speed_kmh: float = 100.0
    rest_ticks: tuple[int, int] = (2, 6)
    # parcels: how often a second courier who saw a job tries to claim it too (and loses)
    rival_rate: float = 0.5
    # an admin account, only to read the development sink (rail booking codes)
    admin_email: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    def __post_init__(self) -> None:
        unknown = set(self.verticals) - set(VERTICALS)
        if unknown or not self.verticals:
            raise ValueError(f"verticals are some of {', '.join(VERTICALS)}; "
                             f"unknown: {', '.join(sorted(unknown)) or 'none given'}")
        for vertical in self.verticals:
            for role in ROLES[vertical]:
                if getattr(self, role) < 1:
                    raise ValueError(f"a city with {vertical} needs at least one of its {role}")
        if self.minutes <= 0 or self.tick_seconds <= 0:
            raise ValueError("minutes and tick_seconds must be positive")
        if (self.admin_email is None) != (self.admin_password is None):
            raise ValueError("give both the admin email and password, or neither")

    @property
    def ticks(self) -> int:
        return max(1, round(self.minutes * 60 / self.tick_seconds))

    @property
    def has_admin(self) -> bool:
        return self.admin_email is not None
