"""The original owner app's tracking page, in both profiles: it opens
``/ws/tracking/{booking_id}?token=`` (no options) as soon as the booking exists, parses every frame
as a flat location and formats ``speed_kmh.toFixed(1)``; the original runner dashboard posts only
coordinates. The page must see the runner move and never get a frame it cannot read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from websockets.sync.client import connect

from tests.e2e import journey as j
from tests.e2e.platform import Platform, wait_until


def owner_page_reads(frame: dict) -> tuple[float, float]:
    """What the page does with a frame; a KeyError or TypeError is its crash."""
    f"{float(frame['speed_kmh']):.1f} {float(frame['heading_degrees']):.0f}"  # noqa: B018
    assert isinstance(frame["speed_kmh"], float) and isinstance(frame["heading_degrees"], float)
    return frame["latitude"], frame["longitude"]


def collect(socket, seconds: float) -> list[dict]:
    frames, deadline = [], datetime.now(UTC) + timedelta(seconds=seconds)
    while (left := (deadline - datetime.now(UTC)).total_seconds()) > 0:
        try:
            frames.append(json.loads(socket.recv(timeout=left)))
        except TimeoutError:
            break
    return frames


def test_the_owner_page_follows_a_coordinates_only_runner_through_the_whole_trip(platform: Platform):
    url = platform.url
    owner = j.register(url, "owner", "Ana Owner")
    runner = j.ready_runner(url)
    booking_id = j.create_booking(owner)["id"]
    j.pay(owner, booking_id)
    points = j.route_points(4)
    # the page is open before any runner accepts (tracking learns of the booking by event)
    page = wait_until(lambda: _open(url, booking_id, owner.token), timeout=20, interval=0.2,
                        message="the owner's page connects before acceptance")
    with page:
        j.accept(runner, booking_id)
        # the runner's app starts posting once its job shows; the trip starts when tracking hears
        wait_until(lambda: owner.get(f"/api/v1/tracking/{booking_id}").status_code == 200,
                   timeout=20, interval=0.1, message="tracking knows the trip")
        start = datetime.now(UTC) - timedelta(seconds=30)
        for i, (lat, lng) in enumerate(points):
            if i == 2:
                j.booking_step(runner, booking_id, "pickup", "in_progress")
            fix = {"latitude": lat, "longitude": lng,
                   "timestamp": (start + timedelta(seconds=5 * i)).isoformat()}
            j.body(runner.post("/api/v1/runners/me/location", fix))
        j.booking_step(runner, booking_id, "deliver", "delivered")
        j.booking_step(owner, booking_id, "confirm", "completed")
        frames = collect(page, 3.0)
    assert [owner_page_reads(frame) for frame in frames] == points
    assert {frame["type"] for frame in frames} == {"location_update"}


def _open(url: str, booking_id: str, token: str):
    from websockets.exceptions import InvalidStatus

    try:
        return connect(j.websocket_url(url, booking_id, token), open_timeout=5)
    except InvalidStatus as exc:
        assert exc.response.status_code == 404, exc.response.status_code  # not learnt yet
        return None
