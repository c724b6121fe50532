"""Small feature-store tables for node tests: store rows, the pandas index of their keys, the sample."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from fruits.tables import FEATURE_STORE, spark_schema

STAMP = datetime(2026, 11, 29, tzinfo=timezone.utc)


Store = tuple[Any, pd.DataFrame, pd.DataFrame]  # Spark rows, pandas index of their keys, the sample


def store_of(spark: Any, vectors: np.ndarray, fingerprint: str = "fp", rejected: int = 1, later: int = 0) -> Store:
    """Store rows for ``vectors`` (+ rejected images), their pandas index and the sample they belong to; the last
    ``later`` images were featurized a day after the others."""
    stamps = [STAMP + timedelta(days=1) if i >= len(vectors) - later else STAMP for i in range(len(vectors))]
    rows = [(f"img{i}", f"a/img{i}", "a", "k", fingerprint, [float(x) for x in vector], None, None, stamp, "r0")
            for i, (vector, stamp) in enumerate(zip(vectors, stamps, strict=True))]
    rows += [(f"bad{i}", f"a/bad{i}", "a", "k", fingerprint, None, "empty file", None, STAMP, "r0")
             for i in range(rejected)]
    store = spark.createDataFrame(rows, spark_schema(FEATURE_STORE))
    index = pd.DataFrame([row[:1] + row[3:5] + row[6:9] for row in rows],
                         columns=["path", "change_key", "fingerprint", "reject_kind", "reject_detail", "featurized_at"])
    sample = pd.DataFrame({"path": index["path"], "change_key": "k", "label": "a"})
    return store, index, sample


RUN_INFO = {"run_id": "r1", "raw_images": "/t", "sampling": {"strategy": "all"}}  # what the run hook hands over


def report(fingerprint: str = "fp", full_refresh: bool = False) -> dict:
    """The parts of a featurization report the PCA and output nodes read."""
    return {"fingerprint": fingerprint, "full_refresh": full_refresh}
