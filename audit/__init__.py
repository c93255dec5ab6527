"""Append-only, tamper-evident audit log of every fetch, download, sync and test run."""
