"""Reject kinds: one list, and only a read failure is tried again."""

from __future__ import annotations

import pandas as pd

from fruits.rejects import ImageRejected, RejectKind, is_retried


def test_only_unreadable_files_are_tried_again() -> None:
    kinds = pd.Series([None, *(kind.value for kind in RejectKind)])
    assert kinds[is_retried(kinds)].tolist() == ["unreadable"]


def test_a_reject_says_its_kind_then_its_detail() -> None:
    assert str(ImageRejected(RejectKind.CORRUPT_IMAGE, "broken data stream")) == "corrupt image: broken data stream"
    assert str(ImageRejected(RejectKind.EMPTY_FILE)) == "empty file"
    assert f"{RejectKind.TOO_MANY_PIXELS}" == "too many pixels"
