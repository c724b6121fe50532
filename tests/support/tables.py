"""Small feature-store tables for node tests: store rows and the sample they belong to, as Spark DataFrames."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from fruits.tables import FEATURE_STORE, SAMPLE, spark_schema

STAMP = datetime(2026, 11, 29, tzinfo=timezone.utc)


Store = tuple[Any, Any]  # Spark rows of the store, the sample (Spark) they belong to


def store_of(spark: Any, vectors: np.ndarray, fingerprint: str = "fp", rejected: int = 1, later: int = 0) -> Store:
    """Store rows for ``vectors`` (+ rejected images) and the sample they belong to; the last ``later`` images were
    featurized a day after the others."""
    stamps = [STAMP + timedelta(days=1) if i >= len(vectors) - later else STAMP for i in range(len(vectors))]
    rows = [(f"img{i}", f"a/img{i}", "a", "k", fingerprint, [float(x) for x in vector], None, None, stamp, "r0")
            for i, (vector, stamp) in enumerate(zip(vectors, stamps, strict=True))]
    rows += [(f"bad{i}", f"a/bad{i}", "a", "k", fingerprint, None, "empty file", None, STAMP, "r0")
             for i in range(rejected)]
    store = spark.createDataFrame(rows, spark_schema(FEATURE_STORE))
    return store, store.select(*SAMPLE.names)


RUN_INFO = {"run_id": "r1", "raw_images": "/t", "sampling": {"strategy": "all"}}  # what the run hook hands over


def report(fingerprint: str = "fp", full_refresh: bool = False, as_published: bool = False) -> dict:
    """The parts of a featurization report the PCA and output nodes read."""
    return {"fingerprint": fingerprint, "full_refresh": full_refresh, "as_published": as_published}
