"""Promo codes: admin creation, validation, the live list."""
