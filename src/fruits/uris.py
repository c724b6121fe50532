"""Where a location is: a URI with a scheme (``s3a://bucket/key``, ``file:///…``) or a plain local path. One rule,
for the driver, the executors and the configuration alike (a file name is never parsed as a URL)."""

from __future__ import annotations

SEPARATOR = "://"


def protocol(location: str) -> str:
    """``s3a`` for ``s3a://bucket/key``, ``file`` for a plain path."""
    return location.split(SEPARATOR, 1)[0] if SEPARATOR in location else "file"


def is_plain_path(location: str) -> bool:
    """A local path without a scheme (relative ones are resolved against the project or the working directory)."""
    return SEPARATOR not in location
