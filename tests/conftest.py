"""Shared test set-up: the cityledger.testing plugin gives the anvil and devnet fixtures."""

pytest_plugins = ["cityledger.testing"]
