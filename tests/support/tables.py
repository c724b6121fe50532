"""Small feature-store tables for node tests: store rows, the pandas index of their keys, the sample."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from fruits.tables import FEATURE_STORE, spark_schema

STAMP = datetime(2026, 11, 29, tzinfo=timezone.utc)


Store = tuple[Any, pd.DataFrame, pd.DataFrame]  # Spark rows, pandas index of their keys, the sample


def store_of(spark: Any, vectors: np.ndarray, fingerprint: str = "fp", rejected: int = 1) -> Store:
    """Store rows for ``vectors`` (+ rejected images), their pandas index and the sample they belong to."""
    rows = [(f"img{i}", f"a/img{i}", "a", "k", fingerprint, [float(x) for x in vector], None, STAMP)
            for i, vector in enumerate(vectors)]
    rows += [(f"bad{i}", f"a/bad{i}", "a", "k", fingerprint, None, "empty file", STAMP) for i in range(rejected)]
    store = spark.createDataFrame(rows, spark_schema(FEATURE_STORE))
    index = pd.DataFrame([row[:1] + row[3:5] + row[6:] for row in rows],
                         columns=["path", "change_key", "fingerprint", "reason", "featurized_at"])
    sample = pd.DataFrame({"path": index["path"], "change_key": "k", "label": "a"})
    return store, index, sample


def report(fingerprint: str = "fp", new: int = 0, changed: int = 0, full_refresh: bool = False) -> dict:
    """The parts of a featurization report the PCA and output nodes read."""
    return {"fingerprint": fingerprint, "new": new, "changed": changed, "full_refresh": full_refresh}
