"""A tiny broker that only the core's tests use: a plugin and its simulator."""
