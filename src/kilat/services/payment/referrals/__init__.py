"""Referral credits, from identity's referrals and the bookings read model."""
