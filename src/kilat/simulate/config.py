"""How big, how long and how busy a simulated city is."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


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
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    def __post_init__(self) -> None:
        if self.owners < 1 or self.runners < 1:
            raise ValueError("a city needs at least one owner and one runner")
        if self.minutes <= 0 or self.tick_seconds <= 0:
            raise ValueError("minutes and tick_seconds must be positive")

    @property
    def ticks(self) -> int:
        return max(1, round(self.minutes * 60 / self.tick_seconds))
