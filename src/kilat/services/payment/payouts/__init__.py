"""Runner payouts: destination accounts and cash-out over the payout rail."""
