"""Live rooms: one per booking, each socket with its own bounded send queue."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from prometheus_client import Counter, Gauge
from starlette.websockets import WebSocket

SOCKETS = Gauge("kilat_tracking_sockets", "Open tracking WebSockets")
FRAMES = Counter("kilat_tracking_frames_total", "Frames queued to tracking WebSockets")
SLOW = Counter("kilat_tracking_slow_sockets_total", "Sockets dropped for falling behind")

CLOSE_TOO_SLOW = 1013
CLOSE_GOING_AWAY = 1001


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is behind a socket: a party to the booking, or a share link's read-only guest."""

    booking_id: uuid.UUID
    user_id: uuid.UUID | None = None
    party: str | None = None
    share_id: uuid.UUID | None = None


class Connection:
    """A socket's outgoing side: frames wait in a bounded queue so one slow reader never blocks
    the room; a reader whose queue is full is dropped.

    ``all_frames`` is the client's choice (``?frames=all``): without it a socket gets only the
    original contract's flat location frames, which is all the original apps can parse."""

    def __init__(self, websocket: WebSocket, viewer: Viewer, *, limit: int,
                 all_frames: bool = False):
        self.websocket = websocket
        self.viewer = viewer
        self.limit = limit
        self.all_frames = all_frames
        self.sending_since: float | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self._queue: deque[str] = deque()
        self._ready = asyncio.Event()
        self.dismissed = asyncio.Event()

    @property
    def room(self) -> str:
        return str(self.viewer.booking_id)

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def offer(self, text: str) -> bool:
        if self.closing:
            return False
        if len(self._queue) >= self.limit:
            SLOW.inc()
            self.dismiss(CLOSE_TOO_SLOW, "client too slow")
            return False
        self._queue.append(text)
        self._ready.set()
        return True

    def dismiss(self, code: int, reason: str) -> None:
        """Ask the socket to close; its pump stops and the endpoint closes it with ``code``."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._ready.set()
        self.dismissed.set()

    async def pump(self) -> None:
        """Send queued frames until dismissed; ``Hub.dismiss_stuck`` catches a send that hangs."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue and not self.closing:
                self.sending_since = time.monotonic()
                await self.websocket.send_text(self._queue.popleft())
                self.sending_since = None
            if self.closing:
                return


class Hub:
    """The rooms of this instance. Broadcasting serialises nothing: callers pass the JSON text."""

    def __init__(self) -> None:
        self._rooms: dict[str, set[Connection]] = {}

    def join(self, connection: Connection) -> None:
        self._rooms.setdefault(connection.room, set()).add(connection)
        SOCKETS.inc()

    def leave(self, connection: Connection) -> None:
        room = self._rooms.get(connection.room)
        if room is None or connection not in room:
            return
        room.discard(connection)
        SOCKETS.dec()
        if not room:
            del self._rooms[connection.room]

    def broadcast(self, booking_id: str, text: str, *, skip: Connection | None = None,
                  rich: bool = False) -> int:
        """Queue ``text`` to every socket of the room but ``skip`` (a ``rich`` frame - status,
        chat - only to the sockets that asked for every frame); returns how many took it."""
        delivered = 0
        for connection in tuple(self._rooms.get(booking_id, ())):
            if connection is not skip and (connection.all_frames or not rich):
                delivered += connection.offer(text)
        FRAMES.inc(delivered)
        return delivered

    def dismiss(self, booking_id: str, which: Callable[[Viewer], bool], code: int, reason: str) -> int:
        dismissed = 0
        for connection in tuple(self._rooms.get(booking_id, ())):
            if which(connection.viewer):
                connection.dismiss(code, reason)
                dismissed += 1
        return dismissed

    def dismiss_user(self, user_id: uuid.UUID, code: int, reason: str) -> int:
        """Close every socket of ``user_id`` in every room (a banned account)."""
        dismissed = 0
        for room in tuple(self._rooms.values()):
            for connection in tuple(room):
                if connection.viewer.user_id == user_id:
                    connection.dismiss(code, reason)
                    dismissed += 1
        return dismissed

    def dismiss_stuck(self, started_before: float) -> int:
        """Drop sockets whose current send began before ``started_before`` (a reader gone quiet)."""
        stuck = [c for room in self._rooms.values() for c in room
                 if c.sending_since is not None and c.sending_since < started_before]
        for connection in stuck:
            SLOW.inc()
            connection.dismiss(CLOSE_TOO_SLOW, "client too slow")
        return len(stuck)

    def viewers(self, booking_id: str) -> int:
        return len(self._rooms.get(booking_id, ()))

    @property
    def sockets(self) -> int:
        return sum(len(room) for room in self._rooms.values())

    def close_all(self) -> None:
        for room in tuple(self._rooms.values()):
            for connection in tuple(room):
                connection.dismiss(CLOSE_GOING_AWAY, "server shutting down")


async def close_quietly(websocket: WebSocket, code: int, reason: str = "") -> None:
    with suppress(Exception):
        await websocket.close(code=code, reason=reason)
