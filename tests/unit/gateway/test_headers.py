from ipaddress import ip_network

from kilat.gateway.headers import (
    client_address,
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


PROXIES = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy():
    assert client_address("127.0.0.1", b"1.2.3.4", []) == "127.0.0.1"
    assert client_address("203.0.113.9", b"1.2.3.4", PROXIES) == "203.0.113.9"
    assert client_address("10.0.0.5", None, PROXIES) == "10.0.0.5"


def test_the_nearest_untrusted_hop_is_the_client():
    assert client_address("10.0.0.5", b"198.51.100.7", PROXIES) == "198.51.100.7"
    # hops left of the client are whatever the client sent: never believed
    assert client_address("10.0.0.5", b"6.6.6.6, 198.51.100.7, 10.1.1.1",
                          PROXIES) == "198.51.100.7"
    assert client_address("fd00::1", b"2001:db8::7", PROXIES) == "2001:db8::7"


def test_a_chain_of_only_trusted_proxies_names_its_first_hop():
    assert client_address("10.0.0.5", b"10.9.9.9, 10.1.1.1", PROXIES) == "10.9.9.9"
    assert client_address("10.0.0.5", b" , ", PROXIES) == "10.0.0.5"


def test_a_hop_that_is_no_address_is_not_trusted():
    assert client_address("10.0.0.5", b"garbage, 10.1.1.1", PROXIES) == "garbage"
