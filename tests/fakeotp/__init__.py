"""A broker that texts a one-time password: its login is always a code typed at the callback."""
