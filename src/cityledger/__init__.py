"""CityLedger: a city's datasets, consent, access, releases and rights requests on an Ethereum network."""

__version__ = "0.1.0"
