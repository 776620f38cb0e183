"""Live location index: where moving members (runners, drivers) are now, searched nearest first.

A port with two adapters, chosen by profile: ``MemoryLocationIndex`` (embedded, one process) and
``RedisLocationIndex`` (distributed: Redis GEO sets shared by every process). Callers pass ``now``
(epoch seconds) so every process, and every test, decides staleness with its own clock.
"""

from __future__ import annotations

import heapq
import json
import math
from collections import OrderedDict
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kilat.platform.errors import BadRequest, ServiceUnavailable
from kilat.platform.geo import EARTH_RADIUS_KM, haversine_km

# Redis GEO (like Web Mercator) cannot hold a position nearer a pole than this. Both adapters refuse
# such positions alike, so the two profiles agree; a search may still start anywhere on the globe.
MAX_LATITUDE = 85.05112878


class Availability(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class LivePosition:
    member: str
    latitude: float
    longitude: float
    seen_at: float
    availability: Availability = Availability.AVAILABLE
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NearbyMember:
    member: str
    distance_km: float
    latitude: float
    longitude: float


class UnindexablePosition(BadRequest):
    def __init__(self, latitude: float, longitude: float) -> None:
        super().__init__("position outside the live location range",
                         f"live positions need latitude within ±{MAX_LATITUDE} and longitude "
                         f"within ±180 (got {latitude!r}, {longitude!r})")


def is_indexable(latitude: float, longitude: float) -> bool:
    return -MAX_LATITUDE <= latitude <= MAX_LATITUDE and -180 <= longitude <= 180


def check_indexable(latitude: float, longitude: float) -> None:
    """Refuse (400) a position no location index can hold, before anything is stored."""
    if not is_indexable(latitude, longitude):
        raise UnindexablePosition(latitude, longitude)


class LocationIndex(Protocol):
    """Contract every adapter keeps (``stale_after`` seconds is fixed when the adapter is built).

    - ``add``, ``add_many``, ``move`` and ``restore`` MUST refuse a position beyond
      ``MAX_LATITUDE`` with ``UnindexablePosition`` (400) and store nothing; ``nearby`` MUST accept
      any latitude in [-90, 90] and longitude in [-180, 180].
    - An unreachable store MUST raise ``ServiceUnavailable`` (503), never a driver error.
    - ``ping()`` MUST raise when the index cannot answer. ``lost_data()`` MUST return True until
      ``mark_intact()`` is called, and again once the store has lost its data (flushed, restarted
      empty), so the caller can rebuild it from its durable records.
    - ``add(position)`` MUST insert or replace the member (position, availability, attributes,
      ``seen_at``) and forget an earlier removal; ``add_many`` MUST equal ``add`` for each.
    - ``move`` / ``touch`` MUST only change a member that is present, keeping its availability and
      attributes, and return the stored record or ``None`` when the member is absent. ``move`` sets
      position and ``seen_at``; ``touch`` sets ``seen_at`` only. Each call is atomic with respect to
      ``remove`` and ``set_availability``: a removed member is never brought back by a late ``move``.
      With ``if_seen_at``, ``move`` MUST change nothing unless the stored ``seen_at`` equals it, and
      then return the stored record unchanged (compare-and-set on the last write).
    - ``restore(position)`` MUST return the present record unchanged when the member is present,
      ``None`` when the member was removed less than ``stale_after`` seconds before
      ``position.seen_at``, and otherwise insert ``position`` and return it.
    - ``set_availability`` MUST change availability and attributes of a present member (keeping its
      position) and return False when the member is absent.
    - ``remove`` MUST drop the member at once from every search and remember the removal.
    - ``get(member, now)`` MUST return the record when present and seen within ``stale_after``.
    - ``nearby`` MUST return only AVAILABLE members seen within ``stale_after`` of ``now`` whose
      great-circle distance (``geo.haversine_km``, from the exact stored coordinates) is at most
      ``radius_km``, nearest first, ties by member, at most ``count``. Every adapter returns the same
      list for the same data.
    - ``purge_stale(now)`` MAY be called at any time; stale members MUST NOT be returned before it.
    """

    async def add(self, position: LivePosition) -> None: ...

    async def add_many(self, positions: Iterable[LivePosition]) -> None: ...

    async def move(self, member: str, latitude: float, longitude: float, seen_at: float, *,
                   if_seen_at: float | None = None) -> LivePosition | None: ...

    async def touch(self, member: str, seen_at: float) -> LivePosition | None: ...

    async def restore(self, position: LivePosition) -> LivePosition | None: ...

    async def set_availability(self, member: str, availability: Availability,
                               attributes: Mapping[str, str]) -> bool: ...

    async def remove(self, member: str, now: float) -> None: ...

    async def get(self, member: str, now: float) -> LivePosition | None: ...

    async def nearby(self, latitude: float, longitude: float, radius_km: float, count: int,
                     now: float) -> list[NearbyMember]: ...

    async def purge_stale(self, now: float) -> int: ...

    async def clear(self) -> None: ...

    async def ping(self) -> None: ...

    async def lost_data(self) -> bool: ...

    async def mark_intact(self) -> None: ...


def _by_distance(found: list[NearbyMember], count: int) -> list[NearbyMember]:
    found.sort(key=lambda hit: (hit.distance_km, hit.member))
    return found[:count]


# --- in-memory adapter ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    position: LivePosition
    phi: float
    cos_phi: float
    lam: float
    cell: tuple[int, int] | None = None


class MemoryLocationIndex:
    """A uniform latitude/longitude grid of available members, searched ring by ring.

    Rings grow around the query cell until the nearest ``count`` are found and no unvisited cell can
    hold a nearer member (a rigorous great-circle lower bound per ring), so a search reads a few
    cells even with 100k members.
    """

    def __init__(self, *, stale_after: float, cell_degrees: float = 0.01) -> None:
        self.stale_after = stale_after
        self.cell_degrees = cell_degrees
        self._lon_cells = math.ceil(360 / cell_degrees)
        self._entries: dict[str, _Entry] = {}
        self._cells: dict[tuple[int, int], set[str]] = {}
        self.last_search_cells = 0  # cells the latest nearby search read (bounded for any query)
        self._row_cols: dict[int, set[int]] = {}  # occupied columns of each row
        self._seen: OrderedDict[str, float] = OrderedDict()  # oldest first
        self._seen_unordered = False
        self._gone: OrderedDict[str, float] = OrderedDict()
        self._intact = False

    def __len__(self) -> int:
        return len(self._entries)

    async def add(self, position: LivePosition) -> None:
        check_indexable(position.latitude, position.longitude)
        self._gone.pop(position.member, None)
        self._store(position)

    async def add_many(self, positions: Iterable[LivePosition]) -> None:
        for position in positions:
            await self.add(position)

    async def move(self, member: str, latitude: float, longitude: float, seen_at: float, *,
                   if_seen_at: float | None = None) -> LivePosition | None:
        check_indexable(latitude, longitude)
        entry = self._entries.get(member)
        if entry is None:
            return None
        if if_seen_at is not None and entry.position.seen_at != if_seen_at:
            return entry.position
        position = replace(entry.position, latitude=latitude, longitude=longitude, seen_at=seen_at)
        return self._store(position)

    async def touch(self, member: str, seen_at: float) -> LivePosition | None:
        entry = self._entries.get(member)
        if entry is None:
            return None
        entry.position = replace(entry.position, seen_at=seen_at)
        self._mark_seen(member, seen_at)
        return entry.position

    async def restore(self, position: LivePosition) -> LivePosition | None:
        check_indexable(position.latitude, position.longitude)
        entry = self._entries.get(position.member)
        if entry is not None:
            return entry.position
        removed_at = self._gone.get(position.member)
        if removed_at is not None and position.seen_at - removed_at < self.stale_after:
            return None
        await self.add(position)
        return position

    async def set_availability(self, member: str, availability: Availability,
                               attributes: Mapping[str, str]) -> bool:
        entry = self._entries.get(member)
        if entry is None:
            return False
        self._store(replace(entry.position, availability=availability, attributes=dict(attributes)))
        return True

    async def remove(self, member: str, now: float) -> None:
        self._drop(member)
        self._gone.pop(member, None)
        self._gone[member] = now

    async def get(self, member: str, now: float) -> LivePosition | None:
        entry = self._entries.get(member)
        if entry is None or entry.position.seen_at < now - self.stale_after:
            return None
        return entry.position

    async def nearby(self, latitude: float, longitude: float, radius_km: float, count: int,
                     now: float) -> list[NearbyMember]:
        if count <= 0:
            return []
        search = _RingSearch(self, latitude, longitude, radius_km, count, now - self.stale_after)
        found = search.run()
        self.last_search_cells = search.cells_read
        return found

    async def purge_stale(self, now: float) -> int:
        cutoff = now - self.stale_after
        if self._seen_unordered:  # a member came back with an older time: sort once
            self._seen = OrderedDict(sorted(self._seen.items(), key=lambda item: item[1]))
            self._seen_unordered = False
        purged = 0
        while self._seen:
            member, seen_at = next(iter(self._seen.items()))
            if seen_at >= cutoff:
                break
            self._drop(member)
            purged += 1
        while self._gone:
            member, removed_at = next(iter(self._gone.items()))
            if removed_at >= cutoff:
                break
            del self._gone[member]
        return purged

    async def clear(self) -> None:
        self._entries.clear()
        self._cells.clear()
        self._row_cols.clear()
        self._seen.clear()
        self._gone.clear()
        self._intact = False

    async def ping(self) -> None:
        return None

    async def lost_data(self) -> bool:
        return not self._intact

    async def mark_intact(self) -> None:
        self._intact = True

    def _store(self, position: LivePosition) -> LivePosition:
        member = position.member
        old = self._entries.get(member)
        if old is not None and old.cell is not None:
            self._leave_cell(member, old.cell)
        phi = math.radians(position.latitude)
        entry = _Entry(position, phi, math.cos(phi), math.radians(position.longitude))
        if position.availability is Availability.AVAILABLE:
            entry.cell = self.cell_of(position.latitude, position.longitude)
            members = self._cells.get(entry.cell)
            if members is None:
                members = self._cells[entry.cell] = set()
                self._row_cols.setdefault(entry.cell[0], set()).add(entry.cell[1])
            members.add(member)
        self._entries[member] = entry
        self._mark_seen(member, position.seen_at)
        return position

    def _mark_seen(self, member: str, seen_at: float) -> None:
        self._seen.pop(member, None)
        if self._seen and seen_at < next(reversed(self._seen.values())):
            self._seen_unordered = True
        self._seen[member] = seen_at

    def _drop(self, member: str) -> None:
        entry = self._entries.pop(member, None)
        self._seen.pop(member, None)
        if entry is not None and entry.cell is not None:
            self._leave_cell(member, entry.cell)

    def _leave_cell(self, member: str, cell: tuple[int, int]) -> None:
        members = self._cells.get(cell)
        if members is not None:
            members.discard(member)
            if not members:
                del self._cells[cell]
                columns = self._row_cols[cell[0]]
                columns.discard(cell[1])
                if not columns:
                    del self._row_cols[cell[0]]

    def cell_of(self, latitude: float, longitude: float) -> tuple[int, int]:
        return (math.floor((latitude + 90) / self.cell_degrees),
                math.floor((longitude + 180) / self.cell_degrees) % self._lon_cells)


class _RingSearch:
    """k-nearest search over the grid; compares haversine terms, not distances, until the end.

    Only the cells of the circle's bounding box are searched (every longitude when the circle holds
    a pole or is wider than the globe), and once the rings would read more cells than the box's rows
    hold occupied cells, those occupied cells are read instead: a search costs at most the box's
    rows plus twice their occupied cells, whatever the query, even at a pole.
    """

    def __init__(self, index: MemoryLocationIndex, latitude: float, longitude: float,
                 radius_km: float, count: int, fresh_after: float) -> None:
        self.index = index
        self.latitude, self.query_longitude = latitude, longitude
        self.longitude = (longitude + 180) % 360 - 180  # the grid's frame, for ring bounds
        self.radius_km, self.count, self.fresh_after = radius_km, count, fresh_after
        self.phi = math.radians(latitude)
        self.cos_phi = math.cos(self.phi)
        self.lam = math.radians(longitude)
        self.max_term = _hav_term(radius_km)
        self.best: list[tuple[float, _Desc]] = []  # top = farthest kept (negated haversine term)
        self.center = index.cell_of(latitude, longitude)
        self.row_lo, self.row_hi, self.col_half = self._bounding_box()
        self.cells_read = 0  # the work a search did: what bounds its time, whatever the query

    def _bounding_box(self) -> tuple[int, int, int]:
        """Rows and column half-width (in cells, around the centre) holding the whole circle."""
        size, lon_cells = self.index.cell_degrees, self.index._lon_cells
        angle = min(self.radius_km / EARTH_RADIUS_KM, math.pi)
        span = math.degrees(angle)
        row_lo = max(0, math.floor((self.latitude - span + 90) / size) - 1)
        row_hi = min(math.floor(180 / size), math.floor((self.latitude + span + 90) / size) + 1)
        col_half = lon_cells // 2
        if abs(self.phi) + angle < math.pi / 2:  # no pole inside: a bounded longitude span
            sine = math.sin(angle) / self.cos_phi
            if sine < 1:
                col_half = min(col_half, math.ceil(math.degrees(math.asin(sine)) / size) + 2)
        return row_lo, row_hi, col_half

    def run(self) -> list[NearbyMember]:
        row = self.center[0]
        last_ring = max(row - self.row_lo, self.row_hi - row, self.col_half)
        budget = sum(len(self.index._row_cols.get(r, ())) for r in range(self.row_lo,
                                                                          self.row_hi + 1))
        ring, read = 0, 0
        while ring <= last_ring and self._ring_may_hold_nearer(ring):
            read += self._ring_size(ring)
            if read > budget:  # cheaper to read the occupied cells left than the rings left
                self._visit_occupied_beyond(ring - 1)
                break
            for cell in self._ring_cells(ring):
                self._visit(cell)
            ring += 1
        return self._results()

    def _ring_may_hold_nearer(self, ring: int) -> bool:
        bound = self._ring_lower_bound_km(ring)
        if bound > self.radius_km:
            return False
        if len(self.best) < self.count:
            return True
        return _hav_term(bound) <= -self.best[0][0]

    def _ring_lower_bound_km(self, ring: int) -> float:
        """Great-circle distance from the query to the nearest point outside rings < ``ring``."""
        if ring == 0:
            return 0.0
        size = self.index.cell_degrees
        row, col = self.center
        south = -90 + (row - ring + 1) * size
        north = -90 + (row + ring) * size
        d_lat = min(self.latitude - south, north - self.latitude)
        west = -180 + (col - ring + 1) * size
        east = -180 + (col + ring) * size
        d_lon = min(self.longitude - west, east - self.longitude)
        bounds = [math.radians(max(d_lat, 0.0)) * EARTH_RADIUS_KM]
        if 2 * ring - 1 < self.index._lon_cells:
            if d_lon < 90:
                sine = self.cos_phi * math.sin(math.radians(max(d_lon, 0.0)))
                bounds.append(math.asin(min(1.0, sine)) * EARTH_RADIUS_KM)
            else:  # a meridian a quarter turn away or more is nearest at the pole
                bounds.append((math.pi / 2 - abs(self.phi)) * EARTH_RADIUS_KM)
        return min(bounds)

    def _ring_size(self, ring: int) -> int:
        """How many cells ``_ring_cells(ring)`` holds, without listing them."""
        if ring == 0:
            return 1
        row, lon_cells = self.center[0], self.index._lon_cells
        edges = sum(self.row_lo <= r <= self.row_hi for r in (row - ring, row + ring))
        size = edges * min(2 * min(ring, self.col_half) + 1, lon_cells)
        if ring <= self.col_half:
            rows = min(row + ring - 1, self.row_hi) - max(row - ring + 1, self.row_lo) + 1
            size += max(rows, 0) * (1 if (2 * ring) % lon_cells == 0 else 2)
        return size

    def _ring_cells(self, ring: int) -> list[tuple[int, int]]:
        """Cells of the box at ``ring`` cells (Chebyshev, columns wrapping) from the centre."""
        row, col = self.center
        if ring == 0:
            return [self.center]
        lon_cells = self.index._lon_cells
        width = min(ring, self.col_half)
        cols = [c % lon_cells for c in range(col - width, col - width + min(2 * width + 1,
                                                                          lon_cells))]
        cells = [(r, c) for r in (row - ring, row + ring) if self.row_lo <= r <= self.row_hi
                 for c in cols]
        if ring <= self.col_half:
            sides = {(col - ring) % lon_cells, (col + ring) % lon_cells}
            cells.extend((r, c) for r in range(max(row - ring + 1, self.row_lo),
                                               min(row + ring - 1, self.row_hi) + 1)
                         for c in sides)
        return cells

    def _visit_occupied_beyond(self, done: int) -> None:
        """Visit every occupied cell of the box that rings ``0..done`` did not read."""
        row, col = self.center
        lon_cells = self.index._lon_cells
        for r in range(self.row_lo, self.row_hi + 1):
            for c in self.index._row_cols.get(r, ()):
                away = min((c - col) % lon_cells, (col - c) % lon_cells)
                if away <= self.col_half and max(abs(r - row), away) > done:
                    self._visit((r, c))

    def _visit(self, cell: tuple[int, int]) -> None:
        self.cells_read += 1
        members = self.index._cells.get(cell)
        if not members:
            return
        entries = self.index._entries
        best, count = self.best, self.count
        phi, cos_phi, lam = self.phi, self.cos_phi, self.lam
        for member in members:
            entry = entries[member]
            if entry.position.seen_at < self.fresh_after:
                continue
            s_lat = math.sin((entry.phi - phi) / 2)
            s_lon = math.sin((entry.lam - lam) / 2)
            term = s_lat * s_lat + cos_phi * entry.cos_phi * s_lon * s_lon
            if term > self.max_term * (1 + 1e-12):
                continue
            item = (-term, _Desc(member))
            if len(best) < count:
                heapq.heappush(best, item)
            elif best[0] < item:
                heapq.heapreplace(best, item)

    def _results(self) -> list[NearbyMember]:
        found = []
        for _term, member in self.best:
            position = self.index._entries[str(member)].position
            distance = haversine_km(self.latitude, self.query_longitude,
                                    position.latitude, position.longitude)
            if distance <= self.radius_km:
                found.append(NearbyMember(position.member, distance, position.latitude,
                                          position.longitude))
        return _by_distance(found, self.count)


class _Desc(str):
    """Reverses string order so the heap's top is the farthest member, then the greatest id."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)


def _hav_term(distance_km: float) -> float:
    return math.sin(min(distance_km / EARTH_RADIUS_KM, math.pi) / 2) ** 2


# --- Redis adapter -------------------------------------------------------------------------------

# Redis measures with a 6372.797 km sphere on 52-bit geohashes (about 0.6 m); searches ask it for
# a slightly wider circle and a few more members, then keep the exact answer computed here.
REDIS_RADIUS_SLACK = 6372.7976 / EARTH_RADIUS_KM
REDIS_RADIUS_MARGIN_KM = 0.002
REDIS_COUNT_MARGIN = 16
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
PURGE_BATCH = 500
FIRST_CIRCLE_SHARE = 8

# Redis GEO never finds a member stored on the top edge of its range (longitude 180, latitude
# MAX_LATITUDE): such members are placed at -180 (the same meridian) and GEO_TOP (9 cm south);
# their records keep the exact coordinates every distance is computed from.
GEO_TOP = 85.051128


def _geo_coordinates(latitude: float, longitude: float) -> tuple[float, float]:
    return min(latitude, GEO_TOP), -180.0 if longitude >= 180 else longitude


# A member's record is "availability<TAB>lat<TAB>lon<TAB>seen<TAB>attributes-json": the scripts
# splice the exact decimal texts Python sent, so coordinates survive without rounding.
_PARSE = r"""
local GEO_TOP, GEO_TOP_TEXT = tonumber('85.051128'), '85.051128'
local function parse(raw)
  return string.match(raw, '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$')
end
local function record(a, lat, lon, t, x)
  return a .. '\t' .. lat .. '\t' .. lon .. '\t' .. t .. '\t' .. x
end
local function geoadd(key, lon, lat, member)
  if tonumber(lon) >= 180 then lon = '-180' end
  if tonumber(lat) > GEO_TOP then lat = GEO_TOP_TEXT end
  redis.call('GEOADD', key, lon, lat, member)
end
local function place(member, a, lat, lon)
  if a == 'available' then
    geoadd(KEYS[1], lon, lat, member)
    redis.call('ZREM', KEYS[2], member)
  else
    geoadd(KEYS[2], lon, lat, member)
    redis.call('ZREM', KEYS[1], member)
  end
end
local function put(member, a, lat, lon, seen, x)
  local raw = record(a, lat, lon, seen, x)
  redis.call('HSET', KEYS[4], member, raw)
  place(member, a, lat, lon)
  redis.call('ZADD', KEYS[3], seen, member)
  redis.call('ZREM', KEYS[5], member)
  return raw
end
"""

# ARGV: member, availability, lat, lon, seen, attributes
_ADD = _PARSE + """
return put(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""

# ARGV: as _ADD, then stale_after
_RESTORE = _PARSE + """
local present = redis.call('HGET', KEYS[4], ARGV[1])
if present then return present end
local removed = redis.call('ZSCORE', KEYS[5], ARGV[1])
if removed and tonumber(ARGV[5]) - tonumber(removed) < tonumber(ARGV[7]) then return false end
return put(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""

# ARGV: member, lat, lon, seen, expected seen ('' for any)
_MOVE = _PARSE + """
local raw = redis.call('HGET', KEYS[4], ARGV[1])
if not raw then return false end
local a, _, _, t, x = parse(raw)
if ARGV[5] ~= '' and t ~= ARGV[5] then return raw end
raw = record(a, ARGV[2], ARGV[3], ARGV[4], x)
redis.call('HSET', KEYS[4], ARGV[1], raw)
if a == 'available' then
  geoadd(KEYS[1], ARGV[3], ARGV[2], ARGV[1])
else
  geoadd(KEYS[2], ARGV[3], ARGV[2], ARGV[1])
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return raw
"""

# ARGV: member, seen
_TOUCH = _PARSE + """
local raw = redis.call('HGET', KEYS[4], ARGV[1])
if not raw then return false end
local a, lat, lon, _, x = parse(raw)
raw = record(a, lat, lon, ARGV[2], x)
redis.call('HSET', KEYS[4], ARGV[1], raw)
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return raw
"""

# ARGV: member, availability, attributes
_SET_AVAILABILITY = _PARSE + """
local raw = redis.call('HGET', KEYS[4], ARGV[1])
if not raw then return 0 end
local _, lat, lon, t, _ = parse(raw)
redis.call('HSET', KEYS[4], ARGV[1], record(ARGV[2], lat, lon, t, ARGV[3]))
place(ARGV[1], ARGV[2], lat, lon)
return 1
"""

# ARGV: member, now
_REMOVE = """
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
return 1
"""

_SWEEP = """
local function sweep(cutoff, limit)
  local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. cutoff, 'LIMIT', 0, limit)
  for _, member in ipairs(stale) do
    redis.call('ZREM', KEYS[1], member)
    redis.call('ZREM', KEYS[2], member)
    redis.call('ZREM', KEYS[3], member)
    redis.call('HDEL', KEYS[4], member)
  end
  return #stale
end
"""

# ARGV: cutoff, batch
_PURGE = _SWEEP + """
local purged = sweep(ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[1])
return purged
"""

# ARGV: lat, lon, radius_km, count, cutoff, batch, first_radius_km
# GEOSEARCH reads every member of the 9 geohash cells around a circle of the asked size, so a
# dense set is searched in growing circles: the first that holds ``count`` members holds the
# nearest ``count`` of the whole radius.
_NEARBY = _SWEEP + """
sweep(ARGV[5], ARGV[6])
local radius, count = tonumber(ARGV[3]), tonumber(ARGV[4])
local r = math.min(tonumber(ARGV[7]), radius)
local hits
while true do
  hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[2], ARGV[1],
                    'BYRADIUS', r, 'km', 'ASC', 'COUNT', count)
  if #hits >= count or r >= radius then break end
  r = math.min(r * 2, radius)
end
if #hits == 0 then return {} end
local states = redis.call('HMGET', KEYS[4], unpack(hits))
local out = {}
for i, member in ipairs(hits) do
  if states[i] then
    out[#out + 1] = member
    out[#out + 1] = states[i]
  end
end
return out
"""

# ARGV: cutoff, batch, then pairs of geohash score bounds [low, high)
# Every available member whose geohash lies in the ranges, with its record: a polar cap, scanned
# whole because GEOSEARCH misses members there (its search boxes bend near the poles).
_CAP = _SWEEP + """
sweep(ARGV[1], ARGV[2])
local out = {}
for i = 3, #ARGV, 2 do
  local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[i], '(' .. ARGV[i + 1])
  if #members > 0 then
    local states = redis.call('HMGET', KEYS[4], unpack(members))
    for j, member in ipairs(members) do
      if states[j] then
        out[#out + 1] = member
        out[#out + 1] = states[j]
      end
    end
  end
end
return out
"""

# a circle reaching this far toward a pole is searched by scanning the cap, in geohash cells of
# 2**CAP_STEP by 2**CAP_STEP over the globe (5.3 degrees of latitude per row)
CAP_LATITUDE = 80.0
CAP_STEP = 5


def _cap_ranges(south: float, north: float) -> list[int]:
    """Geohash score bounds of the cells of every row overlapping [south, north] latitude."""
    rows = 1 << CAP_STEP
    span = 2 * MAX_LATITUDE

    def row(latitude: float) -> int:
        return min(rows - 1, max(0, math.floor((latitude + MAX_LATITUDE) / span * rows)))

    shift = 52 - 2 * CAP_STEP
    bounds = []
    for lat_index in range(row(south), row(north) + 1):
        for lon_index in range(rows):
            code = _spread(lat_index) | (_spread(lon_index) << 1)
            bounds += [code << shift, (code + 1) << shift]
    return bounds


def _spread(value: int) -> int:
    """The bits of ``value`` at the even positions (Redis interleaves latitude there)."""
    out = 0
    for bit in range(CAP_STEP):
        out |= ((value >> bit) & 1) << (2 * bit)
    return out


def _fields(position: LivePosition) -> list[str]:
    return [position.availability.value, repr(position.latitude), repr(position.longitude),
            repr(position.seen_at), json.dumps(dict(position.attributes), separators=(",", ":"))]


def _decode(member: str, raw: bytes | str) -> LivePosition:
    availability, lat, lon, seen, attributes = _text(raw).split("\t", 4)
    return LivePosition(member, float(lat), float(lon), float(seen), Availability(availability),
                        json.loads(attributes))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisLocationIndex:
    """Redis GEO sets ``<prefix>:available`` and ``<prefix>:busy``, last-seen scores in
    ``<prefix>:seen``, member records in the hash ``<prefix>:state`` and removals in
    ``<prefix>:gone``. Every change is one Lua script, so it is atomic across processes. Wrap the
    prefix in braces (``{kilat:runner:geo}``) on Redis Cluster so the keys share a slot.
    """

    def __init__(self, redis: Any, *, stale_after: float, prefix: str = "kilat:geo") -> None:
        self.redis = redis
        self.stale_after = stale_after
        self.prefix = prefix
        self.keys = [f"{prefix}:{name}" for name in ("available", "busy", "seen", "state", "gone")]
        self.intact_key = f"{prefix}:intact"
        self._scripts = {name: redis.register_script(body) for name, body in (
            ("add", _ADD), ("restore", _RESTORE), ("move", _MOVE), ("touch", _TOUCH),
            ("set_availability", _SET_AVAILABILITY), ("remove", _REMOVE), ("purge", _PURGE),
            ("nearby", _NEARBY), ("cap", _CAP))}

    async def _run(self, name: str, *args: Any) -> Any:
        return await _reachable(self._scripts[name](keys=self.keys, args=list(args)))

    async def add(self, position: LivePosition) -> None:
        check_indexable(position.latitude, position.longitude)
        await self._run("add", position.member, *_fields(position))

    async def add_many(self, positions: Iterable[LivePosition], *, batch: int = 5000) -> None:
        """Adds in MULTI/EXEC batches of ``batch`` members, a handful of commands per batch."""
        pending = list(positions)
        for position in pending:
            check_indexable(position.latitude, position.longitude)
        try:
            await self._add_batches(pending, batch)
        except REDIS_DOWN as exc:
            raise _unavailable(exc) from exc

    async def _add_batches(self, pending: list[LivePosition], batch: int) -> None:
        available_key, busy_key, seen_key, state_key, gone_key = self.keys
        for start in range(0, len(pending), batch):
            chunk = pending[start:start + batch]
            members = [p.member for p in chunk]
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(state_key, mapping={p.member: "\t".join(_fields(p)) for p in chunk})
                for key, other, wanted in ((available_key, busy_key, Availability.AVAILABLE),
                                           (busy_key, available_key, Availability.BUSY)):
                    placed = [p for p in chunk if p.availability is wanted]
                    if placed:
                        pipe.geoadd(key, [v for p in placed for v in (
                            *reversed(_geo_coordinates(p.latitude, p.longitude)), p.member)])
                        pipe.zrem(other, *[p.member for p in placed])
                pipe.zadd(seen_key, {p.member: p.seen_at for p in chunk})
                pipe.zrem(gone_key, *members)
                await pipe.execute()

    async def move(self, member: str, latitude: float, longitude: float, seen_at: float, *,
                   if_seen_at: float | None = None) -> LivePosition | None:
        check_indexable(latitude, longitude)
        expected = "" if if_seen_at is None else repr(if_seen_at)
        raw = await self._run("move", member, repr(latitude), repr(longitude), repr(seen_at),
                              expected)
        return _decode(member, raw) if raw else None

    async def touch(self, member: str, seen_at: float) -> LivePosition | None:
        raw = await self._run("touch", member, repr(seen_at))
        return _decode(member, raw) if raw else None

    async def restore(self, position: LivePosition) -> LivePosition | None:
        check_indexable(position.latitude, position.longitude)
        raw = await self._run("restore", position.member, *_fields(position),
                              repr(self.stale_after))
        return _decode(position.member, raw) if raw else None

    async def set_availability(self, member: str, availability: Availability,
                               attributes: Mapping[str, str]) -> bool:
        changed = await self._run("set_availability", member, availability.value,
                                  json.dumps(dict(attributes), separators=(",", ":")))
        return bool(changed)

    async def remove(self, member: str, now: float) -> None:
        await self._run("remove", member, repr(now))

    async def get(self, member: str, now: float) -> LivePosition | None:
        raw = await _reachable(self.redis.hget(self.keys[3], member))
        if raw is None:
            return None
        position = _decode(member, raw)
        return position if position.seen_at >= now - self.stale_after else None

    async def nearby(self, latitude: float, longitude: float, radius_km: float, count: int,
                     now: float) -> list[NearbyMember]:
        if count <= 0:
            return []
        cutoff = now - self.stale_after
        edge = max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude))
        if haversine_km(latitude, longitude, edge, longitude) > radius_km:
            return []  # the whole circle lies beyond MAX_LATITUDE, where no member can be
        reach = math.degrees(min(radius_km / EARTH_RADIUS_KM, math.pi)) + 0.01
        if abs(latitude) + reach >= CAP_LATITUDE:
            south, north = latitude - reach, latitude + reach
            if latitude < 0:
                south, north = -MAX_LATITUDE, north
            else:
                north = MAX_LATITUDE
            flat = await self._run("cap", repr(cutoff), PURGE_BATCH, *_cap_ranges(south, north))
            return _by_distance(self._exact_hits(flat, latitude, longitude, radius_km, cutoff),
                                count)
        # GEOSEARCH refuses a centre beyond its range: search from the nearest point it takes,
        # widened by the shift; a member it leaves out is then judged by ``_settled``
        center, geo_longitude = _geo_coordinates(max(-GEO_TOP, latitude), longitude)
        shift = haversine_km(latitude, longitude, center, longitude)
        wide = (radius_km + shift) * REDIS_RADIUS_SLACK + REDIS_RADIUS_MARGIN_KM
        asked = count + REDIS_COUNT_MARGIN
        while True:
            flat = await self._run("nearby", repr(center), repr(geo_longitude), repr(wide), asked,
                                   repr(cutoff), PURGE_BATCH, repr(wide / FIRST_CIRCLE_SHARE))
            found = self._exact_hits(flat, latitude, longitude, radius_km, cutoff)
            if len(flat) < 2 * asked or (len(found) >= count and (
                    shift == 0 or _settled(flat, found, count, (center, longitude), shift))):
                return _by_distance(found, count)
            asked *= 4

    @staticmethod
    def _exact_hits(flat: list, latitude: float, longitude: float, radius_km: float,
                    cutoff: float) -> list[NearbyMember]:
        found = []
        for member_raw, state in zip(flat[0::2], flat[1::2], strict=True):
            position = _decode(_text(member_raw), state)
            if position.seen_at < cutoff:
                continue
            distance = haversine_km(latitude, longitude, position.latitude, position.longitude)
            if distance <= radius_km:
                found.append(NearbyMember(position.member, distance, position.latitude,
                                          position.longitude))
        return found

    async def purge_stale(self, now: float) -> int:
        purged = 0
        while True:
            batch = await self._run("purge", repr(now - self.stale_after), PURGE_BATCH)
            purged += int(batch)
            if batch < PURGE_BATCH:
                return purged

    async def clear(self) -> None:
        await _reachable(self.redis.unlink(*self.keys, self.intact_key))

    async def ping(self) -> None:
        await _reachable(self.redis.ping())

    async def lost_data(self) -> bool:
        return not await _reachable(self.redis.exists(self.intact_key))

    async def mark_intact(self) -> None:
        await _reachable(self.redis.set(self.intact_key, "1"))


def _settled(flat: list, found: list[NearbyMember], count: int, center: tuple[float, float],
             shift: float) -> bool:
    """Redis ordered by distance from a shifted centre: a member it left out lies at least the
    farthest returned distance minus ``shift`` from the query; no nearer than the count-th found?"""
    reach = max(haversine_km(*center, position.latitude, position.longitude)
                for position in (_decode(_text(m), raw) for m, raw in zip(flat[0::2], flat[1::2],
                                                                          strict=True)))
    kth = sorted(hit.distance_km for hit in found)[count - 1]
    return kth <= reach - shift - REDIS_RADIUS_MARGIN_KM


async def _reachable(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except REDIS_DOWN as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: BaseException) -> ServiceUnavailable:
    return ServiceUnavailable("location index unavailable",
                              f"the live location store cannot be reached ({type(exc).__name__})")
