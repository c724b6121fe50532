"""The tables' shared queries: which rejects are tried again; a run's new features are read without the store
files of other runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from py4j.protocol import Py4JJavaError
from pyspark.sql import functions as F

from fruits.rejects import RejectKind
from fruits.tables import IMAGE_KEY, is_retried, with_features
from tests.support.tables import store_of


def test_the_features_of_a_runs_images_are_read_from_that_runs_files_only(spark, tmp_path: Path) -> None:
    store, _ = store_of(spark, np.eye(4), rejected=0)
    location = tmp_path / "feature_store"
    store.where(F.col("path").isin("img0", "img3")).coalesce(1).write.format("delta").save(str(location))
    earlier = set(location.glob("*.parquet"))
    later = store.where(F.col("path").isin("img1", "img2")).withColumn("run_id", F.lit("r1"))
    later.coalesce(1).write.format("delta").mode("append").save(str(location))
    for file in earlier:  # run r0's file (its paths' range spans the keys') is gone from the disk: reading it fails
        file.unlink()
    table = spark.read.format("delta").load(str(location))
    keys = later.select(*IMAGE_KEY, "featurized_at")
    rows = with_features(table, keys, ["r1"]).collect()
    assert sorted(row.path for row in rows) == ["img1", "img2"] and all(len(row.features) == 4 for row in rows)
    with pytest.raises(Py4JJavaError, match="does not exist"):
        with_features(table, keys).collect()  # without the runs, every file of the store is read


def test_only_unreadable_files_are_tried_again(spark) -> None:
    kinds = spark.createDataFrame([(None,), *((kind.value,) for kind in RejectKind)], "reject_kind string")
    retried = kinds.where(is_retried(F.col("reject_kind"))).collect()
    assert [row.reject_kind for row in retried] == ["unreadable"]
    assert kinds.where(~is_retried(F.col("reject_kind"))).count() == len(RejectKind)  # features (no kind) included
