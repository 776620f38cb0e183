"""Subscriptions: plans, charges, renewal and expiry."""
