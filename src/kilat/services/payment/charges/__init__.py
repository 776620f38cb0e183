"""The verticals' charges: captured at once on a request event, refunded in part or in whole."""
