"""Pure header rewriting for the reverse proxy (ASGI raw headers: lower-case bytes pairs)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

Headers = list[tuple[bytes, bytes]]
Networks = Sequence[IPv4Network | IPv6Network]

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
    b"trailer", b"trailers", b"transfer-encoding", b"upgrade",
})
_REWRITTEN = frozenset({b"host", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"})
# the websocket client library negotiates these itself with the upstream
_HANDSHAKE = frozenset({
    b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions",
    b"sec-websocket-protocol", b"sec-websocket-accept",
})


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def client_address(peer: str | None, forwarded_for: bytes | None,
                   trusted: Networks) -> str | None:
    """Who sent the request: the peer, unless it is a trusted proxy; then the nearest
    X-Forwarded-For hop, walking from the right, that is not a trusted proxy itself (a hop
    further left was written by someone we cannot vouch for)."""
    if not trusted or peer is None or forwarded_for is None or not _trusted(peer, trusted):
        return peer
    hops = [hop for hop in (part.strip() for part in forwarded_for.decode("latin-1").split(","))
            if hop]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _trusted(address: str, trusted: Networks) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def strip_hop_by_hop(headers: Iterable[tuple[bytes, bytes]]) -> Headers:
    """Drop hop-by-hop headers, including any the Connection header names."""
    pairs = [(key.lower(), value) for key, value in headers]
    named = {token.strip().lower() for key, value in pairs if key == b"connection"
             for token in value.split(b",")}
    drop = HOP_BY_HOP | named
    return [(key, value) for key, value in pairs if key not in drop]


def ensure_request_id(headers: Headers) -> tuple[Headers, str]:
    """The request's X-Request-ID, adding a new one to ``headers`` when the client sent none."""
    existing = header(headers, b"x-request-id")
    if existing:
        return headers, existing.decode("latin-1")
    request_id = str(uuid.uuid4())
    return [*headers, (b"x-request-id", request_id.encode())], request_id


def upstream_request_headers(headers: Iterable[tuple[bytes, bytes]], *, client_ip: str | None,
                             scheme: str) -> Headers:
    """What the upstream sees: no hop-by-hop headers, its own Host, X-Forwarded-For/Proto/Host."""
    headers = list(headers)
    kept = [(k, v) for k, v in strip_hop_by_hop(headers) if k not in _REWRITTEN]
    chain = [hop for hop in (header(headers, b"x-forwarded-for"), client_ip and client_ip.encode())
             if hop]
    if chain:
        kept.append((b"x-forwarded-for", b", ".join(chain)))
    kept.append((b"x-forwarded-proto", b"https" if scheme in ("https", "wss") else b"http"))
    host = header(headers, b"host")
    if host:
        kept.append((b"x-forwarded-host", host))
    return kept


def websocket_handshake_headers(headers: Iterable[tuple[bytes, bytes]], *, client_ip: str | None,
                                scheme: str) -> list[tuple[str, str]]:
    forwarded = upstream_request_headers(headers, client_ip=client_ip, scheme=scheme)
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in forwarded if k not in _HANDSHAKE]


def downstream_response_headers(headers: Iterable[tuple[bytes, bytes]], request_id: str) -> Headers:
    """The upstream's response headers minus hop-by-hop ones, always carrying the request id."""
    kept = strip_hop_by_hop(headers)
    if header(kept, b"x-request-id") is None:
        kept.append((b"x-request-id", request_id.encode()))
    return kept


def websocket_url(base_url: str, path: str, query_string: bytes) -> str:
    scheme, _, rest = base_url.rstrip("/").partition("://")
    url = f"{'wss' if scheme == 'https' else 'ws'}://{rest}{path}"
    return f"{url}?{query_string.decode('latin-1')}" if query_string else url
