"""Rooms and bounded per-socket queues: fan-out per trip, slow readers dropped, others unaffected."""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

from kilat.services.tracking.domain import Fix
from kilat.services.tracking.frames import TripSnapshot, location_frame, status_frame
from kilat.services.tracking.hub import CLOSE_TOO_SLOW, Connection, Hub, Viewer


class FakeSocket:
    def __init__(self, *, stuck: bool = False) -> None:
        self.sent: list[str] = []
        self.stuck = stuck

    async def send_text(self, text: str) -> None:
        if self.stuck:
            await asyncio.Event().wait()
        self.sent.append(text)


def connection(booking_id, socket, limit=4) -> Connection:
    return Connection(socket, Viewer(booking_id, user_id=uuid.uuid4(), party="owner"), limit=limit)


async def test_a_frame_reaches_every_socket_of_its_room_and_no_other():
    hub, room, other = Hub(), uuid.uuid4(), uuid.uuid4()
    a, b, c = FakeSocket(), FakeSocket(), FakeSocket()
    conns = [connection(room, a), connection(room, b), connection(other, c)]
    for conn in conns:
        hub.join(conn)
    pumps = [asyncio.create_task(conn.pump()) for conn in conns]
    assert hub.broadcast(str(room), '{"n":1}') == 2
    await asyncio.sleep(0.01)
    assert a.sent == b.sent == ['{"n":1}'] and c.sent == []
    for task in pumps:
        task.cancel()


async def test_a_slow_socket_is_dropped_without_holding_up_the_room():
    hub, room = Hub(), uuid.uuid4()
    slow, fast = FakeSocket(stuck=True), FakeSocket()
    slow_conn, fast_conn = connection(room, slow, limit=3), connection(room, fast, limit=3)
    hub.join(slow_conn)
    hub.join(fast_conn)
    pumps = [asyncio.create_task(slow_conn.pump()), asyncio.create_task(fast_conn.pump())]
    for n in range(10):
        hub.broadcast(str(room), json.dumps({"n": n}))
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.01)
    assert slow_conn.dismissed.is_set() and slow_conn.close_code == CLOSE_TOO_SLOW
    assert [json.loads(t)["n"] for t in fast.sent] == list(range(10))
    assert not fast_conn.closing
    for task in pumps:
        task.cancel()


async def test_a_socket_whose_send_hangs_is_dismissed_by_the_watch():
    hub, room = Hub(), uuid.uuid4()
    stuck, fine = connection(room, FakeSocket(stuck=True)), connection(room, FakeSocket())
    hub.join(stuck)
    hub.join(fine)
    pumps = [asyncio.create_task(stuck.pump()), asyncio.create_task(fine.pump())]
    hub.broadcast(str(room), "x")
    await asyncio.sleep(0.01)
    assert hub.dismiss_stuck(time.monotonic() + 1) == 1
    assert stuck.close_code == CLOSE_TOO_SLOW and not fine.closing
    assert hub.dismiss_stuck(time.monotonic() - 60) == 0
    for task in pumps:
        task.cancel()


async def test_dismiss_picks_sockets_by_viewer():
    hub, room = Hub(), uuid.uuid4()
    share = uuid.uuid4()
    guest = Connection(FakeSocket(), Viewer(room, share_id=share), limit=4)
    owner = connection(room, FakeSocket())
    hub.join(guest)
    hub.join(owner)
    assert hub.dismiss(str(room), lambda v: v.share_id == share, 4401, "revoked") == 1
    assert guest.close_code == 4401 and not owner.closing
    hub.leave(guest)
    hub.leave(owner)
    assert hub.sockets == 0 and hub.viewers(str(room)) == 0


def test_location_frames_are_flat_with_a_type():
    booking, runner = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC)
    frame = location_frame(booking, runner, Fix(3.1, 101.6, at, 32.5, 180.0, 4.0))
    assert frame == {"type": "location_update", "booking_id": str(booking), "runner_id": str(runner),
                     "latitude": 3.1, "longitude": 101.6, "speed_kmh": 32.5, "heading_degrees": 180.0,
                     "speed_known": True, "heading_known": True,
                     "accuracy_m": 4.0, "timestamp": "2026-11-24T10:00:00.123456Z"}


def test_trip_snapshots_cross_instances_unchanged():
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    snapshot = TripSnapshot(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "completed",
                            "delivered", "delivered", at, completed_at=at, total_distance_km=1.234)
    wire = json.loads(json.dumps(snapshot.to_wire()))
    assert TripSnapshot.from_wire(wire) == snapshot
    assert status_frame(snapshot)["status"] == "completed"


def test_an_older_version_of_a_trip_never_replaces_a_newer_one():
    from kilat.services.tracking.directory import TripDirectory

    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    active = TripSnapshot(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "active",
                          "accepted", None, at, version=1)
    ended = TripSnapshot(active.trip_id, active.booking_id, active.owner_id, active.runner_id,
                         "cancelled", "cancelled", "cancelled", at, version=2)
    directory = TripDirectory(None, idle_seconds=60, miss_ttl=1)
    directory.remember(ended)
    directory.remember(active)
    assert directory.peek(active.booking_id).snapshot.status == "cancelled"
