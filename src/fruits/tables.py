"""The project's Delta Lake tables, defined once for every pipeline, dataset and test: their schemas, where they
live under the data root, and the keys that identify a row.

**The feature-store key** is ``path`` + ``change_key`` + ``fingerprint``:

- ``path``: the image's URI in the root's own spelling (``file:///…``, ``s3a://bucket/key``);
- ``change_key``: what changes when the file's content changes (the ETag on S3, else mtime and size:
  :func:`fruits.datasets.image_tree.change_key`);
- ``fingerprint``: what changes when the features would (weights, engine, input size:
  :func:`fruits.engines.model_fingerprint`).

A run featurizes only the sampled images whose key the store lacks, so new or edited photos and a new model are
picked up by themselves. :data:`IMAGE_KEY` is the part that names one version of one image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

VECTOR = pa.list_(pa.float32())
IMAGE_KEY = ["path", "change_key"]
STORE_KEY = [*IMAGE_KEY, "fingerprint"]

# Every image the network was asked about, append-only. ``reject_kind`` (a ``fruits.rejects.RejectKind``) and
# ``reject_detail`` say why an image gave no features; ``run_id`` is the run that featurized it (what it reports).
FEATURE_STORE = pa.schema([
    ("path", pa.string()),
    ("relative_path", pa.string()),
    ("label", pa.string()),
    ("change_key", pa.string()),
    ("fingerprint", pa.string()),
    ("features", VECTOR),
    ("reject_kind", pa.string()),
    ("reject_detail", pa.string()),
    ("featurized_at", pa.timestamp("us", tz="UTC")),
    ("run_id", pa.string()),
])
# The published results: one row per featurized image of the current sample. ``pca_run_id`` is the run whose PCA
# fit projected the row: rows projected by any other fit are projected again.
RESULTS = pa.schema([
    ("path", pa.string()),
    ("label", pa.string()),
    ("change_key", pa.string()),
    ("features", VECTOR),
    ("pca_features", VECTOR),
    ("pca_run_id", pa.string()),
])
# Every image of the tree that gave no features, with the kind of reject and its detail.
REJECTS = pa.schema([
    ("path", pa.string()),
    ("label", pa.string()),
    ("reject_kind", pa.string()),
    ("reject_detail", pa.string()),
])

# One sampled image: what the featurization reads and the feature store's first columns.
SAMPLE = pa.schema([
    ("path", pa.string()),
    ("relative_path", pa.string()),
    ("label", pa.string()),
    ("change_key", pa.string()),
])
SAMPLE_COLUMNS = SAMPLE.names

# What the manifest says a listed file is.
IMAGE, IGNORED, REJECTED = "image", "ignored", "rejected"


@dataclass(frozen=True)
class Table:
    """A Delta table of the data root: its folder (relative to the root, fixed, so that any engine finds it) and
    its columns."""

    name: str
    location: str
    schema: pa.Schema


TABLES = {table.name: table for table in (
    Table("feature_store", "04_feature/feature_store", FEATURE_STORE),
    Table("results", "07_model_output/results", RESULTS),
    Table("rejects", "07_model_output/rejects", REJECTS),
)}


def spark_schema(schema: pa.Schema) -> StructType:
    """The same columns as Spark types (one definition for pyarrow, pandas and Spark)."""
    return from_arrow_schema(schema)


def newest_keys(index: pd.DataFrame, sample: pd.DataFrame, fingerprint: str) -> pd.DataFrame:
    """For each sampled image, the store row of the current model that describes it (the newest if an image was
    featurized twice, by a full refresh): key columns plus ``featurized_at`` and ``reject_kind``, in key order."""
    current = index[index["fingerprint"] == fingerprint].merge(sample[IMAGE_KEY], on=IMAGE_KEY)
    newest = current.sort_values([*IMAGE_KEY, "featurized_at"]).drop_duplicates(IMAGE_KEY, keep="last")
    return newest.reset_index(drop=True)


def featurized_keys(index: pd.DataFrame, sample: pd.DataFrame, fingerprint: str) -> pd.DataFrame:
    """The :func:`newest_keys` that hold features (no reject kind): what the PCA fits on and the results show."""
    keys = newest_keys(index, sample, fingerprint)
    return keys[keys["reject_kind"].isna()]


def live_features(feature_store: DataFrame, keys: pd.DataFrame, fingerprint: str) -> DataFrame:
    """The store's rows of the current model for the given images (``path``, ``change_key``), the newest when an
    image was featurized twice. The choice is made in Spark on the key columns (no timestamp leaves Spark, the
    1280-float vectors are never shuffled)."""
    wanted = feature_store.sparkSession.createDataFrame(keys[IMAGE_KEY], "path string, change_key string")
    current = feature_store.where(F.col("fingerprint") == fingerprint).join(wanted, IMAGE_KEY, "left_semi")
    newest = current.groupBy(*IMAGE_KEY).agg(F.max("featurized_at").alias("featurized_at"))
    return current.join(newest, [*IMAGE_KEY, "featurized_at"], "left_semi")


def seeded_rank(keys: pd.Series, seed: int) -> np.ndarray:
    """A seeded pseudo-random order of ``keys``: the same for the same names and seed, wherever the tree lives."""
    return pd.util.hash_pandas_object(keys, index=False, hash_key=format(seed % 2**64, "016x")).to_numpy()
