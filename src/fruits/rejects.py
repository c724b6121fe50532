"""Why a listed file gave no features: one kind from a fixed list, plus a file-specific detail.

The kind is what tables, counts and the report group by; the detail (Pillow's message, the read error) is for the
person looking at one file. Only an unreadable file is tried again by the next run: the other kinds depend on the
file's content, which the change key says has not changed.
"""

from __future__ import annotations

from enum import Enum


class RejectKind(str, Enum):
    """The kinds of reject; the value is what the tables and the report show."""

    UNREADABLE = "unreadable"
    EMPTY_FILE = "empty file"
    NOT_AN_IMAGE = "not a decodable image"
    CORRUPT_IMAGE = "corrupt image"
    TOO_MANY_PIXELS = "too many pixels"
    NOT_IN_CLASS_FOLDER = "not in a class folder"

    def __str__(self) -> str:
        return self.value


# A read can fail for a passing reason (a network error, a file being written): the next run tries it again.
RETRIED = frozenset({RejectKind.UNREADABLE})


class ImageRejected(ValueError):
    """A file that cannot become a feature vector (or a picture in the report): its kind and what went wrong."""

    def __init__(self, kind: RejectKind, detail: str | None = None) -> None:
        super().__init__(f"{kind}: {detail}" if detail else str(kind))
        self.kind = kind
        self.detail = detail
