from kilat.gateway.headers import (
    downstream_response_headers,
    ensure_request_id,
    strip_hop_by_hop,
    upstream_request_headers,
    websocket_handshake_headers,
    websocket_url,
)


def test_hop_by_hop_headers_and_those_named_by_connection_are_dropped():
    headers = [(b"Connection", b"keep-alive, X-Secret"), (b"keep-alive", b"timeout=5"),
               (b"x-secret", b"1"), (b"transfer-encoding", b"chunked"), (b"upgrade", b"h2c"),
               (b"te", b"trailers"), (b"content-type", b"text/plain")]
    assert strip_hop_by_hop(headers) == [(b"content-type", b"text/plain")]


def test_forwarded_headers_are_set_and_host_is_left_to_the_client():
    headers = [(b"host", b"api.kilat.test"), (b"authorization", b"Bearer t"),
               (b"connection", b"keep-alive"), (b"x-forwarded-proto", b"https")]
    forwarded = upstream_request_headers(headers, client_ip="10.0.0.9", scheme="http")
    assert forwarded == [(b"authorization", b"Bearer t"), (b"x-forwarded-for", b"10.0.0.9"),
                         (b"x-forwarded-proto", b"http"), (b"x-forwarded-host", b"api.kilat.test")]


def test_forwarded_for_appends_the_peer_to_an_existing_chain():
    headers = [(b"x-forwarded-for", b"203.0.113.5, 10.0.0.1")]
    forwarded = dict(upstream_request_headers(headers, client_ip="10.0.0.2", scheme="https"))
    assert forwarded[b"x-forwarded-for"] == b"203.0.113.5, 10.0.0.1, 10.0.0.2"
    assert forwarded[b"x-forwarded-proto"] == b"https"


def test_request_id_is_kept_when_sent_and_generated_otherwise():
    headers, request_id = ensure_request_id([(b"x-request-id", b"abc")])
    assert (headers, request_id) == ([(b"x-request-id", b"abc")], "abc")
    headers, request_id = ensure_request_id([(b"accept", b"*/*")])
    assert len(request_id) == 36 and headers[-1] == (b"x-request-id", request_id.encode())


def test_response_headers_lose_hop_by_hop_and_gain_the_request_id_once():
    upstream = [(b"Content-Type", b"application/json"), (b"Transfer-Encoding", b"chunked"),
                (b"Connection", b"close")]
    assert downstream_response_headers(upstream, "rid") == [
        (b"content-type", b"application/json"), (b"x-request-id", b"rid")]
    echoed = [(b"x-request-id", b"rid")]
    assert downstream_response_headers(echoed, "rid") == [(b"x-request-id", b"rid")]


def test_websocket_handshake_leaves_negotiation_to_the_client_library():
    headers = [(b"host", b"gw"), (b"sec-websocket-key", b"k"), (b"sec-websocket-version", b"13"),
               (b"upgrade", b"websocket"), (b"connection", b"Upgrade"), (b"origin", b"http://a"),
               (b"sec-websocket-extensions", b"permessage-deflate")]
    forwarded = websocket_handshake_headers(headers, client_ip="1.2.3.4", scheme="ws")
    assert forwarded == [("origin", "http://a"), ("x-forwarded-for", "1.2.3.4"),
                         ("x-forwarded-proto", "http"), ("x-forwarded-host", "gw")]


def test_websocket_url_keeps_path_and_query_and_maps_the_scheme():
    assert websocket_url("http://127.0.0.1:8005/", "/ws/tracking/1", b"token=a%20b") == \
        "ws://127.0.0.1:8005/ws/tracking/1?token=a%20b"
    assert websocket_url("https://tracking.internal", "/ws/tracking/1", b"") == \
        "wss://tracking.internal/ws/tracking/1"
