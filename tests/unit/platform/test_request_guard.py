"""The request guard as a pure ASGI layer: what it lets the app read, and what it answers."""

from __future__ import annotations

import json

import pytest

from kilat.platform.http import BodyLimit, RequestGuard

LIMIT = BodyLimit(default=1000, upload=5000)


class Exchange:
    """A fake server: hands out ``chunks`` of the body and records what the app sent back."""

    def __init__(self, chunks: list[bytes], headers: list[tuple[bytes, bytes]] = ()) -> None:
        self.scope = {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}
        self.chunks = chunks
        self.pulled = 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if self.pulled == len(self.chunks):
            return {"type": "http.disconnect"}
        self.pulled += 1
        return {"type": "http.request", "body": self.chunks[self.pulled - 1],
                "more_body": self.pulled < len(self.chunks)}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def body(self) -> dict:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


async def read_everything(scope, receive, send) -> None:
    """An app that reads the whole body, then answers 400 about it (as a JSON parser would)."""
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 400, "headers": []})
    await send({"type": "http.response.body", "body": b'{"parsed": true}'})


async def test_a_declared_length_over_the_limit_is_413_before_the_app_runs():
    called = []

    async def app(scope, receive, send):
        called.append(True)

    exchange = Exchange([b"x" * 1001], [(b"content-length", b"1001")])
    await RequestGuard(app, LIMIT)(exchange.scope, exchange.receive, exchange.send)
    assert (exchange.status, exchange.body) == (413, {
        "success": False, "error": "request body too large", "detail": "the limit is 1000 bytes"})
    assert called == [] and exchange.pulled == 0


async def test_a_streamed_body_stops_being_read_at_the_limit():
    exchange = Exchange([b"x" * 100] * 1000)  # 100 kB, no Content-Length
    await RequestGuard(read_everything, LIMIT)(exchange.scope, exchange.receive, exchange.send)
    assert exchange.status == 413
    assert exchange.body["error"] == "request body too large"
    assert exchange.pulled == 11  # the chunk that crossed 1000 bytes is the last one read


async def test_a_body_at_the_limit_reaches_the_app():
    exchange = Exchange([b"x" * 500, b"x" * 500])
    await RequestGuard(read_everything, LIMIT)(exchange.scope, exchange.receive, exchange.send)
    assert (exchange.status, exchange.body) == (400, {"parsed": True})


@pytest.mark.parametrize(("content_type", "status"), [
    (b"multipart/form-data; boundary=x", 400), (b"application/json", 413)])
async def test_multipart_uploads_have_their_own_limit(content_type, status):
    exchange = Exchange([b"x" * 4000], [(b"content-type", content_type)])
    await RequestGuard(read_everything, LIMIT)(exchange.scope, exchange.receive, exchange.send)
    assert exchange.status == status


async def test_an_unhandled_error_is_a_500_envelope_and_does_not_reach_the_server():
    async def app(scope, receive, send):
        raise RuntimeError("bug")

    exchange = Exchange([b""])
    await RequestGuard(app)(exchange.scope, exchange.receive, exchange.send)
    assert (exchange.status, exchange.body) == (500, {
        "success": False, "error": "internal server error", "detail": ""})


async def test_an_error_after_the_response_started_still_reaches_the_server():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("bug mid-stream")

    exchange = Exchange([b""])
    with pytest.raises(RuntimeError):  # only closing the connection can tell the client
        await RequestGuard(app)(exchange.scope, exchange.receive, exchange.send)
