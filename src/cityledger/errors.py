"""Errors a user can act on. The CLI prints their message on one line and exits non-zero."""


class CityLedgerError(Exception):
    """Bad input or an unusable environment: the message says what and what to do."""


class ConfigError(CityLedgerError):
    pass


class NetworkError(CityLedgerError):
    """The RPC does not answer, or answers for another chain."""
