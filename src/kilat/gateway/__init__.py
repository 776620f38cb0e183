"""API gateway: route table, embedded dispatch, reverse proxy, rate limit, CORS, health, docs."""

from kilat.gateway.app import create_gateway

__all__ = ["create_gateway"]
