"""Benchmarks that print ratios measured in one run; each script says how to run it."""
