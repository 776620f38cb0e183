"""A runner whose app streams GPS only over the tracking WebSocket, in both profiles: the owner's
screen follows every fix in order, the runner's socket gets none of its own back, and once the
job is done nearby search finds the runner where the socket last put them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.e2e import journey as j
from tests.e2e.platform import Platform, wait_until

NEARBY_RADIUS_KM = 0.05  # the route ends ~200 m from the pickup, where the runner went online


def silence(socket, seconds: float) -> list[dict]:
    """Every frame that arrives on ``socket`` within ``seconds``."""
    frames, deadline = [], datetime.now(UTC) + timedelta(seconds=seconds)
    while (left := (deadline - datetime.now(UTC)).total_seconds()) > 0:
        try:
            frames.append(json.loads(socket.recv(timeout=left)))
        except TimeoutError:
            break
    return frames


def nearby_ids(user: j.User, latitude: float, longitude: float) -> set[str]:
    found = j.body(user.get("/api/v1/runners/nearby", params={
        "latitude": latitude, "longitude": longitude, "radius_km": NEARBY_RADIUS_KM}))
    return {runner["user_id"] for runner in found}


def test_a_runner_streaming_only_over_the_socket_moves_on_screen_and_in_nearby_search(
        platform: Platform):
    url = platform.url
    owner = j.register(url, "owner", "Sock Owner")
    runner = j.ready_runner(url)
    booking_id = j.create_booking(owner)["id"]
    j.pay(owner, booking_id)
    j.accept(runner, booking_id)
    wait_until(lambda: owner.get(f"/api/v1/tracking/{booking_id}").status_code == 200,
               timeout=20, interval=0.1, message="tracking knows the trip")
    points = j.route_points(7)
    start = datetime.now(UTC) - timedelta(seconds=5 * len(points))
    with j.open_tracking(url, booking_id, owner.token) as screen, \
            j.open_tracking(url, booking_id, runner.token) as app:
        for i, (lat, lng) in enumerate(points):
            app.send(json.dumps({
                "type": "location", "latitude": lat, "longitude": lng, "speed_kmh": 25,
                "heading_degrees": 225, "accuracy_m": 5,
                "timestamp": (start + timedelta(seconds=5 * i)).isoformat()}))
        frames = j.receive_locations(screen, len(points))
        echoed = silence(app, 1.0)
    assert [(f["latitude"], f["longitude"]) for f in frames] == points
    assert echoed == []

    j.booking_step(runner, booking_id, "pickup", "in_progress")
    j.booking_step(runner, booking_id, "deliver", "delivered")
    j.booking_step(owner, booking_id, "confirm", "completed")
    last = points[-1]
    wait_until(lambda: runner.id in nearby_ids(owner, *last), timeout=20, interval=0.2,
               message="nearby search finds the runner at the socket's last fix")
    assert runner.id not in nearby_ids(owner, j.PICKUP["latitude"], j.PICKUP["longitude"])
