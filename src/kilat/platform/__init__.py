"""Shared kernel: no business knowledge lives here."""
