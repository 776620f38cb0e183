"""Kilat: an open platform for on-demand delivery and mobility businesses."""

__version__ = "0.1.0"
