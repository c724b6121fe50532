"""Helpers shared by the tests and the benchmark: where the data is, throw-away projects, a local AWS endpoint.

Tests import from here, never from a ``conftest`` (pytest owns those modules).
"""
