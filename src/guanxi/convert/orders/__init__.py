"""The shops' orders: reading each shop's export with its quirks, storing them once."""
