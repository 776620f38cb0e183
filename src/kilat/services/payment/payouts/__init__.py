"""Payouts to runners, drivers and couriers: destination accounts and cash-out over the rail."""
