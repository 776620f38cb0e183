"""This instance's live sockets, by user: each socket with a bounded send queue, frames in
sequence order, and the frames it missed replayed before live ones."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import deque
from contextlib import suppress
from typing import Any

from starlette.websockets import WebSocket

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = 1009
CLOSE_TOO_SLOW = 1013
CLOSE_REVOKED = 4403
SENT_MEMORY = 1024  # stored frames a socket remembers having sent


class Connection:
    """A socket's outgoing side. Until its replay is done, live frames wait so the client sees
    every stored frame once, in ``seq`` order. Frames of transactions that committed out of
    ``seq`` order (PostgreSQL) still go out, once each: what was sent is remembered by ``seq``."""

    def __init__(self, websocket: WebSocket, user_id: uuid.UUID, role: str, *, limit: int,
                 since: int) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.role = role
        self.limit = limit
        self.since = since
        self._sent: set[int] = set()
        self._sent_order: deque[int] = deque()
        self.replaying = True
        self.held: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._queue: deque[str] = deque()
        self._ready = asyncio.Event()
        self.dismissed = asyncio.Event()

    def offer(self, frame: dict[str, Any]) -> bool:
        """Queue a frame; a stored one (with ``seq``) is sent once, after the ones before it."""
        seq = frame.get("seq")
        if seq is not None:
            if self.replaying:
                self.held.append(frame)
                return True
            if seq <= self.since or seq in self._sent:
                return False
            self._remember(seq)
        return self._push(json.dumps(frame))

    def _remember(self, seq: int) -> None:
        self._sent.add(seq)
        self._sent_order.append(seq)
        if len(self._sent_order) > SENT_MEMORY:
            self._sent.discard(self._sent_order.popleft())

    def replayed(self, frames: list[dict[str, Any]]) -> None:
        """Send the stored frames read after joining, then the live ones that came meanwhile."""
        self.replaying = False
        for frame in sorted([*frames, *self.held], key=lambda f: f["seq"]):
            self.offer(frame)
        self.held.clear()

    def _push(self, text: str) -> bool:
        if self.close_code is not None:
            return False
        if len(self._queue) >= self.limit:
            self.dismiss(CLOSE_TOO_SLOW, "client too slow")
            return False
        self._queue.append(text)
        self._ready.set()
        return True

    def dismiss(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._ready.set()
        self.dismissed.set()

    async def pump(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue and self.close_code is None:
                await self.websocket.send_text(self._queue.popleft())
            if self.close_code is not None:
                return


class Hub:
    def __init__(self) -> None:
        self._users: dict[uuid.UUID, set[Connection]] = {}

    def join(self, connection: Connection) -> None:
        self._users.setdefault(connection.user_id, set()).add(connection)

    def leave(self, connection: Connection) -> None:
        sockets = self._users.get(connection.user_id)
        if sockets is None:
            return
        sockets.discard(connection)
        if not sockets:
            del self._users[connection.user_id]

    def deliver(self, user_id: uuid.UUID, frame: dict[str, Any]) -> int:
        return sum(c.offer(frame) for c in tuple(self._users.get(user_id, ())))

    def dismiss_user(self, user_id: uuid.UUID, code: int, reason: str) -> None:
        for connection in tuple(self._users.get(user_id, ())):
            connection.dismiss(code, reason)

    def sockets(self, user_id: uuid.UUID | None = None) -> int:
        if user_id is not None:
            return len(self._users.get(user_id, ()))
        return sum(len(s) for s in self._users.values())

    def close_all(self) -> None:
        for sockets in tuple(self._users.values()):
            for connection in tuple(sockets):
                connection.dismiss(CLOSE_GOING_AWAY, "server shutting down")


async def close_quietly(websocket: WebSocket, code: int, reason: str = "") -> None:
    with suppress(Exception):
        await websocket.close(code=code, reason=reason)
