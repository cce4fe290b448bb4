"""Deliberately bad and partial plugins for the registry tests."""
