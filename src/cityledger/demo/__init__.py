"""Demo data: real public datasets from vega-datasets and a synthetic citizen-level dataset."""

from .seed import SeedSummary, seed_demo

__all__ = ["SeedSummary", "seed_demo"]
