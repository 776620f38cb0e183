"""Escrow: a booking's price held on the owner's card, released to the runner or refunded."""
