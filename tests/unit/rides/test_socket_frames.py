"""A socket's frames: the replay first, live frames held meanwhile, each stored frame once even
when transactions commit out of sequence order."""

from __future__ import annotations

import json
import uuid

from kilat.services.rides.hub import Connection


def frame(seq: int) -> dict:
    return {"event": "offer", "data": {"n": seq}, "seq": seq}


def sent(connection: Connection) -> list[int]:
    return [json.loads(text).get("seq") for text in connection._queue]


def connection(since: int = 0) -> Connection:
    return Connection(websocket=None, user_id=uuid.uuid4(), role="driver", limit=100, since=since)


def test_live_frames_wait_for_the_replay_and_each_goes_out_once_in_order():
    socket = connection(since=3)
    socket.offer(frame(6))  # arrives live while the replay is read
    socket.offer(frame(5))
    socket.replayed([frame(4), frame(5)])
    assert sent(socket) == [4, 5, 6]


def test_a_frame_committed_late_still_goes_out_and_a_repeat_does_not():
    socket = connection()
    socket.replayed([])
    for seq in (8, 7, 8, 9, 7):
        socket.offer(frame(seq))
    assert sent(socket) == [8, 7, 9]


def test_frames_the_client_already_had_are_not_sent_again():
    socket = connection(since=10)
    socket.replayed([frame(9), frame(11)])
    assert sent(socket) == [11]


def test_a_reader_that_falls_too_far_behind_is_dismissed():
    socket = Connection(websocket=None, user_id=uuid.uuid4(), role="driver", limit=2, since=0)
    socket.replayed([])
    for seq in (1, 2, 3):
        socket.offer(frame(seq))
    assert socket.close_code == 1013 and sent(socket) == [1, 2]


def test_live_only_frames_have_no_sequence_and_are_always_sent():
    socket = connection()
    socket.replayed([])
    socket.offer({"event": "driver_location", "data": {}})
    socket.offer({"event": "driver_location", "data": {}})
    assert sent(socket) == [None, None]
