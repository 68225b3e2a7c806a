"""Generators: one file per backend, each behind a one-method protocol from ``base``."""
