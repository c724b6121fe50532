"""Helpers shared by the tests and the benchmark: where the data is, throw-away projects, a local AWS endpoint,
the local Spark settings, the tiny fixture model's generator and the test tiers.

Tests import from here, never from a ``conftest`` (pytest owns those modules).
"""
