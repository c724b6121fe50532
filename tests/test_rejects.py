"""Reject kinds: one list, and only a read failure is tried again."""

from __future__ import annotations

from pyspark.sql import functions as F

from fruits.rejects import ImageRejected, RejectKind, is_retried


def test_only_unreadable_files_are_tried_again(spark) -> None:
    kinds = spark.createDataFrame([(None,), *((kind.value,) for kind in RejectKind)], "reject_kind string")
    retried = kinds.where(is_retried(F.col("reject_kind"))).collect()
    assert [row.reject_kind for row in retried] == ["unreadable"]
    assert kinds.where(~is_retried(F.col("reject_kind"))).count() == len(RejectKind)  # features (no kind) included


def test_a_reject_says_its_kind_then_its_detail() -> None:
    assert str(ImageRejected(RejectKind.CORRUPT_IMAGE, "broken data stream")) == "corrupt image: broken data stream"
    assert str(ImageRejected(RejectKind.EMPTY_FILE)) == "empty file"
    assert f"{RejectKind.TOO_MANY_PIXELS}" == "too many pixels"
