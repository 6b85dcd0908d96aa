"""Shared test set-up: the cityledger.testing plugin gives the anvil and devnet fixtures; pytester
runs a pytest inside a test (for the fixtures' own order tests)."""

pytest_plugins = ["cityledger.testing", "pytester"]
