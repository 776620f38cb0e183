"""Ports to the outside world and their built-in adapters: card provider, payout rail."""
