"""Critics: each takes a sheet and returns candidate findings (the guard runs after)."""
