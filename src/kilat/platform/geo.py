"""Geography shared by the services: great-circle distance, GPS fix filtering, encoded polylines,
PostGIS points.

Coordinates are WGS 84 degrees, always given as (latitude, longitude). Tables keep plain
``*_lat``/``*_lng`` columns on every engine; on PostgreSQL a PostgreSQL-only migration step adds a
generated ``geography(Point, 4326)`` column with a GiST index (``add_point_column``), and queries
use it through ``within_radius`` / ``distance_km_expr``, which fall back to a portable haversine
expression on SQLite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from sqlalchemy import ColumnElement, and_, func, literal, literal_column

EARTH_RADIUS_KM = 6371.0

LatLng = tuple[float, float]


def is_possible_position(latitude: float, longitude: float) -> bool:
    """Inside the globe and not the (0, 0) fix that broken receivers report."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return False
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return False
    return not (latitude == 0 and longitude == 0)


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance on a sphere of radius 6371 km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def path_length_km(points: Sequence[LatLng]) -> float:
    return sum(haversine_km(*a, *b) for a, b in pairwise(points))


# --- GPS fixes: the one policy and the one judge ------------------------------------------------


@dataclass(frozen=True, slots=True)
class GpsPolicy:
    """What makes a fix worth keeping; the runner service applies it to every fix it ingests."""

    max_accuracy_m: float = 100.0
    max_speed_kmh: float = 200.0
    jitter_m: float = 5.0
    stationary_speed_kmh: float = 3.0
    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(hours=6)
    clock_skew: timedelta = timedelta(minutes=5)

    def trusting_motion(self) -> GpsPolicy:
        """For fixes already judged upstream: only possibility, accuracy, window and order."""
        return replace(self, max_speed_kmh=math.inf, jitter_m=0.0)


@dataclass(frozen=True, slots=True)
class Fix:
    latitude: float
    longitude: float
    recorded_at: datetime
    speed_kmh: float | None = None
    heading_degrees: float | None = None
    accuracy_m: float | None = None


class FixVerdict(StrEnum):
    ACCEPTED = "accepted"
    STATIONARY = "stationary"
    IMPOSSIBLE = "impossible"
    POOR_ACCURACY = "poor_accuracy"
    OUT_OF_WINDOW = "out_of_window"
    OUT_OF_ORDER = "out_of_order"
    IMPLAUSIBLE_JUMP = "implausible_jump"

    @property
    def moves(self) -> bool:
        return self is FixVerdict.ACCEPTED

    @property
    def keeps_alive(self) -> bool:
        return self in (FixVerdict.ACCEPTED, FixVerdict.STATIONARY)


MIN_INTERVAL_SECONDS = 1.0


def _in_range(value: float | None, low: float, high: float) -> bool:
    return value is None or (math.isfinite(value) and low <= value <= high)


def is_possible_fix(fix: Fix) -> bool:
    return (
        is_possible_position(fix.latitude, fix.longitude)
        and _in_range(fix.speed_kmh, 0, 1000)
        and _in_range(fix.heading_degrees, 0, 360)
        and _in_range(fix.accuracy_m, 0, 1_000_000)
    )


def judge_fix(previous: Fix | None, fix: Fix, policy: GpsPolicy, *, now: datetime,
              not_before: datetime | None = None) -> FixVerdict:
    """Keep a fix when it is possible, precise, recent (not before ``not_before`` less the clock
    skew), after the previous one and reachable from it; a tiny move at rest is STATIONARY."""
    if not is_possible_fix(fix):
        return FixVerdict.IMPOSSIBLE
    if fix.accuracy_m is not None and fix.accuracy_m > policy.max_accuracy_m:
        return FixVerdict.POOR_ACCURACY
    earliest = now - policy.max_age
    if not_before is not None:
        earliest = max(earliest, not_before - policy.clock_skew)
    if not earliest <= fix.recorded_at <= now + policy.max_future:
        return FixVerdict.OUT_OF_WINDOW
    if previous is None:
        return FixVerdict.ACCEPTED
    if fix.recorded_at <= previous.recorded_at:
        return FixVerdict.OUT_OF_ORDER
    return _judge_move(previous, fix, policy)


def _judge_move(previous: Fix, fix: Fix, policy: GpsPolicy) -> FixVerdict:
    moved_km = haversine_km(previous.latitude, previous.longitude, fix.latitude, fix.longitude)
    seconds = max((fix.recorded_at - previous.recorded_at).total_seconds(), MIN_INTERVAL_SECONDS)
    if moved_km / (seconds / 3600) > policy.max_speed_kmh:
        return FixVerdict.IMPLAUSIBLE_JUMP
    standing = fix.speed_kmh is None or fix.speed_kmh < policy.stationary_speed_kmh
    if standing and moved_km * 1000 < policy.jitter_m:
        return FixVerdict.STATIONARY
    return FixVerdict.ACCEPTED


def encode_polyline(points: Iterable[LatLng], precision: int = 5) -> str:
    """Google's encoded polyline algorithm format."""
    factor = 10**precision
    chunks: list[str] = []
    last_lat = last_lng = 0
    for lat, lng in points:
        lat_i, lng_i = math.floor(lat * factor + 0.5), math.floor(lng * factor + 0.5)
        chunks.append(_encode_value(lat_i - last_lat))
        chunks.append(_encode_value(lng_i - last_lng))
        last_lat, last_lng = lat_i, lng_i
    return "".join(chunks)


def _encode_value(value: int) -> str:
    value = ~(value << 1) if value < 0 else value << 1
    out = []
    while value >= 0x20:
        out.append(chr((0x20 | (value & 0x1F)) + 63))
        value >>= 5
    out.append(chr(value + 63))
    return "".join(out)


def decode_polyline(encoded: str, precision: int = 5) -> list[LatLng]:
    factor = 10**precision
    values: list[int] = []
    shift = result = 0
    for char in encoded:
        byte = ord(char) - 63
        result |= (byte & 0x1F) << shift
        shift += 5
        if byte < 0x20:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            shift = result = 0
    coords: list[LatLng] = []
    lat = lng = 0
    for d_lat, d_lng in zip(values[0::2], values[1::2], strict=False):
        lat, lng = lat + d_lat, lng + d_lng
        coords.append((lat / factor, lng / factor))
    return coords


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) enclosing a circle; longitudes widen near the poles."""
    angle = radius_km / EARTH_RADIUS_KM
    d_lat = math.degrees(angle)
    cos_lat = math.cos(math.radians(lat))
    if angle >= math.pi / 2 or math.sin(angle) >= cos_lat:
        d_lng = 180.0
    else:
        d_lng = math.degrees(math.asin(math.sin(angle) / cos_lat))
    return lat - d_lat, lat + d_lat, lng - d_lng, lng + d_lng


# --- SQL -----------------------------------------------------------------------------------------


def point_sql(lat_column: str, lng_column: str) -> str:
    return f"ST_SetSRID(ST_MakePoint({lng_column}, {lat_column}), 4326)::geography"


def add_point_column(table: str, column: str, lat_column: str, lng_column: str) -> None:
    """PostgreSQL-only migration step: a generated geography point kept in step with lat/lng."""
    from alembic import op

    op.execute(
        f"ALTER TABLE {table} ADD COLUMN {column} geography(Point, 4326) "
        f"GENERATED ALWAYS AS ({point_sql(lat_column, lng_column)}) STORED"
    )
    op.execute(f"CREATE INDEX ix_{table}_{column} ON {table} USING gist ({column})")


def drop_point_column(table: str, column: str) -> None:
    from alembic import op

    op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}")
    op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")


def distance_km_expr(lat_col, lng_col, lat: float, lng: float) -> ColumnElement[float]:
    """Portable haversine in SQL (PostgreSQL and SQLite's math functions)."""
    lat1, lat2 = func.radians(lat_col), func.radians(literal(lat))
    d_lat = (lat2 - lat1) / 2
    d_lng = (func.radians(literal(lng)) - func.radians(lng_col)) / 2
    a = (func.pow(func.sin(d_lat), 2)
         + func.cos(lat1) * func.cos(lat2) * func.pow(func.sin(d_lng), 2))
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(a))


def within_radius(
    dialect: str, lat_col, lng_col, lat: float, lng: float, radius_km: float,
    point_column: str | None = None,
) -> ColumnElement[bool]:
    """Rows whose point lies within ``radius_km`` of (lat, lng).

    On PostgreSQL with ``point_column`` (qualified, e.g. ``"bookings.pickup_point"``) this is
    ``ST_DWithin`` on the geography column, which the GiST index serves; elsewhere a bounding box on
    the plain columns narrows the rows before the haversine test.
    """
    if dialect == "postgresql" and point_column is not None:
        target = func.geography(func.ST_SetSRID(func.ST_MakePoint(lng, lat), 4326))
        return func.ST_DWithin(literal_column(point_column), target, radius_km * 1000.0)
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    conditions = [lat_col.between(min_lat, max_lat)]
    if min_lng >= -180.0 and max_lng <= 180.0:
        conditions.append(lng_col.between(min_lng, max_lng))
    conditions.append(distance_km_expr(lat_col, lng_col, lat, lng) <= radius_km)
    return and_(*conditions)
