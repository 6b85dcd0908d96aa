"""Consent-filtered releases: the rows of a personal dataset whose subjects consented, a Merkle
snapshot of those subjects, and its log on chain (AccessRegistry.log_release)."""
