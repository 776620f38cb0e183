"""The raw HTTP load generator: keep-alive, both body framings, errors counted."""

import asyncio

from kilat.bench.loadgen import Connection, build_request, closed_loop

REPLIES = {
    b"/plain": b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
    b"/missing": b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}",
}


async def serve():
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ")[1]
                length = [int(line[15:]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length:
                    await reader.readexactly(length[0])
                writer.write(REPLIES[path])
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_one_connection_reads_plain_and_chunked_bodies_in_turn():
    server, port = await serve()
    async with server:
        connection = await Connection.open("127.0.0.1", port)
        assert await connection.exchange(build_request("GET", "/plain")) == (200, b'{"ok":true}')
        assert await connection.exchange(build_request("GET", "/chunked")) == (200, b'{"a":1}')
        assert (await connection.exchange(build_request("POST", "/missing", body={"x": 1})))[0] == 404
        connection.close()


async def test_closed_loop_counts_requests_latencies_and_failed_answers():
    server, port = await serve()
    async with server:
        paths = ["/plain", "/missing"]
        result = await closed_loop("127.0.0.1", port, 4, 0.3,
                                   lambda i, n: build_request("GET", paths[n % 2]), warmup_seconds=0.05)
    assert result.requests > 20
    assert len(result.latencies_ms) == result.requests
    assert abs(result.errors - result.requests / 2) <= 4
    figures = result.figures()
    assert figures["throughput_per_s"] > 0 and figures["p99_ms"] >= figures["p50_ms"] > 0


def test_a_request_carries_the_token_and_a_json_body_with_its_length():
    request = build_request("POST", "/x", token="abc", body={"a": 1})
    head, body = request.split(b"\r\n\r\n")
    assert b"Authorization: Bearer abc" in head and b"Content-Length: 7" in head
    assert body == b'{"a":1}'
