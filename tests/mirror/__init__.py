"""Tests of the offline DummyJSON mirror (``mirror`` package)."""
