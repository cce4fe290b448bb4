"""A broker that logs in by browser redirect (ICICI-like): its login page sends the
user back with a token."""
