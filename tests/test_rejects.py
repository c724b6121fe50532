"""Reject kinds: one list, and a reject says its kind then its detail."""

from __future__ import annotations

from fruits.rejects import ImageRejected, RejectKind


def test_a_reject_says_its_kind_then_its_detail() -> None:
    assert str(ImageRejected(RejectKind.CORRUPT_IMAGE, "broken data stream")) == "corrupt image: broken data stream"
    assert str(ImageRejected(RejectKind.EMPTY_FILE)) == "empty file"
    assert f"{RejectKind.TOO_MANY_PIXELS}" == "too many pixels"
