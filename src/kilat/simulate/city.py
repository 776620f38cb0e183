"""Greater Kuala Lumpur as the simulator sees it: neighbourhoods, addresses and moving vehicles.

Everything here is pure and driven by the ``random.Random`` it is given, so a seed replays it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from kilat.platform.geo import haversine_km

KM_PER_DEGREE = 111.195


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    name: str
    latitude: float
    longitude: float
    postal_code: str
    state: str = "Wilayah Persekutuan Kuala Lumpur"


NEIGHBOURHOODS: tuple[Neighbourhood, ...] = (
    Neighbourhood("KLCC", 3.1579, 101.7116, "50088"),
    Neighbourhood("Bukit Bintang", 3.1466, 101.7101, "55100"),
    Neighbourhood("Bangsar", 3.1292, 101.6789, "59100"),
    Neighbourhood("Mont Kiara", 3.1724, 101.6506, "50480"),
    Neighbourhood("Sri Hartamas", 3.1635, 101.6503, "50480"),
    Neighbourhood("Brickfields", 3.1300, 101.6850, "50470"),
    Neighbourhood("Cheras", 3.1068, 101.7260, "56000"),
    Neighbourhood("Setapak", 3.1980, 101.7170, "53300"),
    Neighbourhood("Titiwangsa", 3.1790, 101.6960, "53200"),
    Neighbourhood("Kepong", 3.2100, 101.6360, "52100"),
    Neighbourhood("Ampang", 3.1500, 101.7600, "68000", "Selangor"),
    Neighbourhood("Petaling Jaya", 3.1073, 101.6067, "46000", "Selangor"),
    Neighbourhood("Damansara Utama", 3.1365, 101.6230, "47400", "Selangor"),
    Neighbourhood("Subang Jaya", 3.0470, 101.5850, "47500", "Selangor"),
    Neighbourhood("Puchong", 3.0250, 101.6190, "47100", "Selangor"),
)

STREETS = ("Jalan Ampang", "Jalan Tun Razak", "Jalan Bukit Bintang", "Jalan Maarof",
           "Jalan Telawi", "Jalan Kiara", "Jalan Sultan Ismail", "Jalan Cheras", "Jalan Genting Klang",
           "Jalan Kuching", "Jalan SS2/24", "Jalan PJU 7/3", "Jalan Puchong", "Jalan USJ 10/1")

PETS = (  # pet type, names, weight range in kg
    ("dog", ("Milo", "Coco", "Bobo", "Lucky", "Max"), (3.0, 30.0)),
    ("cat", ("Oyen", "Comel", "Putih", "Luna", "Tiger"), (2.5, 7.0)),
    ("rabbit", ("Snowy", "Bun", "Kiki"), (1.0, 3.0)),
    ("bird", ("Kiwi", "Sunny"), (0.1, 1.0)),
)


@dataclass(frozen=True, slots=True)
class Place:
    line1: str
    neighbourhood: Neighbourhood
    latitude: float
    longitude: float

    def address(self) -> dict:
        """The booking API's nested address body."""
        return {"line1": self.line1, "city": "Kuala Lumpur" if "Persekutuan" in self.neighbourhood.state
                else self.neighbourhood.name, "state": self.neighbourhood.state,
                "postal_code": self.neighbourhood.postal_code, "country": "Malaysia",
                "latitude": round(self.latitude, 6), "longitude": round(self.longitude, 6)}


def offset(latitude: float, longitude: float, north_km: float, east_km: float) -> tuple[float, float]:
    east_degrees = east_km / (KM_PER_DEGREE * math.cos(math.radians(latitude)))
    return latitude + north_km / KM_PER_DEGREE, longitude + east_degrees


def random_place(rng: random.Random, near: Neighbourhood | None = None, spread_km: float = 1.2) -> Place:
    area = near or rng.choice(NEIGHBOURHOODS)
    lat, lng = offset(area.latitude, area.longitude, rng.gauss(0, spread_km), rng.gauss(0, spread_km))
    return Place(f"{rng.randint(1, 250)}, {rng.choice(STREETS)}", area, lat, lng)


def place_near(rng: random.Random, latitude: float, longitude: float, max_km: float) -> Place:
    """A place within ``max_km`` of a point, named after the closest neighbourhood."""
    distance, bearing = rng.uniform(0.3, max_km), rng.uniform(0, 2 * math.pi)
    lat, lng = offset(latitude, longitude, distance * math.cos(bearing), distance * math.sin(bearing))
    area = min(NEIGHBOURHOODS, key=lambda n: haversine_km(lat, lng, n.latitude, n.longitude))
    return Place(f"{rng.randint(1, 250)}, {rng.choice(STREETS)}", area, lat, lng)


def random_pet(rng: random.Random) -> dict:
    pet_type, names, (low, high) = rng.choice(PETS)
    return {"pet_type": pet_type, "name": rng.choice(names),
            "weight_kg": round(rng.uniform(low, high), 1), "age_months": rng.randint(3, 150)}


def heading_degrees(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Initial bearing from the first point to the second, 0..360 clockwise from north."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_lambda = math.radians(lng2 - lng1)
    y = math.sin(d_lambda) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(d_lambda)
    return math.degrees(math.atan2(y, x)) % 360


@dataclass(frozen=True, slots=True)
class Fix:
    """One GPS reading as a phone reports it (noise included)."""

    latitude: float
    longitude: float
    speed_kmh: float
    heading_degrees: float
    accuracy_m: float

    def body(self) -> dict:
        return {"latitude": round(self.latitude, 6), "longitude": round(self.longitude, 6),
                "speed_kmh": round(self.speed_kmh, 1), "heading_degrees": round(self.heading_degrees, 1),
                "accuracy_m": round(self.accuracy_m, 1)}


@dataclass(slots=True)
class Vehicle:
    """A runner's car: drives in a straight line towards its target at city speed."""

    latitude: float
    longitude: float
    speed_kmh: float = 0.0
    heading: float = 0.0

    def drive(self, rng: random.Random, target: tuple[float, float], seconds: float) -> bool:
        """Advance ``seconds`` towards ``target``; True once there."""
        remaining = haversine_km(self.latitude, self.longitude, *target)
        self.speed_kmh = max(8.0, min(70.0, rng.gauss(32.0, 8.0)))
        step = self.speed_kmh * seconds / 3600
        if remaining <= step or remaining < 0.02:
            self.latitude, self.longitude = target
            return True
        self.heading = heading_degrees(self.latitude, self.longitude, *target)
        fraction = step / remaining
        self.latitude += (target[0] - self.latitude) * fraction
        self.longitude += (target[1] - self.longitude) * fraction
        return False

    def fix(self, rng: random.Random) -> Fix:
        accuracy = rng.uniform(3.0, 12.0)
        noise_km = rng.gauss(0, accuracy / 3) / 1000
        lat, lng = offset(self.latitude, self.longitude, noise_km, rng.gauss(0, accuracy / 3) / 1000)
        heading = (self.heading + rng.gauss(0, 4)) % 360
        return Fix(lat, lng, self.speed_kmh, heading, accuracy)
