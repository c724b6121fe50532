"""What the tables between pipelines hold, defined once for every pipeline, dataset and test."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

VECTOR = pa.list_(pa.float32())
# Every image the network was asked about, keyed by its URI, its version (change key) and the model's fingerprint:
# a run featurizes only keys the store does not hold yet. ``reason`` says why an image gave no features.
FEATURE_STORE = pa.schema([
    ("path", pa.string()),
    ("relative_path", pa.string()),
    ("label", pa.string()),
    ("change_key", pa.string()),
    ("fingerprint", pa.string()),
    ("features", VECTOR),
    ("reason", pa.string()),
    ("featurized_at", pa.timestamp("us", tz="UTC")),
])
# The published results: one row per featurized image of the current sample.
RESULTS = pa.schema([
    ("path", pa.string()),
    ("label", pa.string()),
    ("change_key", pa.string()),
    ("features", VECTOR),
    ("pca_features", VECTOR),
])
TABLE_SCHEMAS = {"feature_store": FEATURE_STORE, "results": RESULTS}

IMAGE_KEY = ["path", "change_key"]
# What the manifest says a listed file is.
IMAGE, IGNORED, REJECTED = "image", "ignored", "rejected"


def spark_schema(schema: pa.Schema) -> StructType:
    """The same columns as Spark types (one definition for pyarrow, pandas and Spark)."""
    return from_arrow_schema(schema)


def featurized_rows(features: DataFrame) -> DataFrame:
    """Rows whose image went through the network (the others are rejects)."""
    return features.where(F.col("reason").isNull())


def newest_keys(index: pd.DataFrame, sample: pd.DataFrame, fingerprint: str) -> pd.DataFrame:
    """For each sampled image, the store row of the current model that describes it (the newest if an image was
    featurized twice, by a full refresh): key columns plus ``featurized_at`` and ``reason``."""
    current = index[index["fingerprint"] == fingerprint].merge(sample[IMAGE_KEY], on=IMAGE_KEY)
    return current.sort_values("featurized_at").drop_duplicates(IMAGE_KEY, keep="last")


def live_features(feature_store: DataFrame, live_keys: pd.DataFrame) -> DataFrame:
    """The store's rows for the given keys (from :func:`newest_keys`): the vectors are selected by a join on small
    keys, never shuffled."""
    keys = feature_store.sparkSession.createDataFrame(
        live_keys[[*IMAGE_KEY, "featurized_at"]], "path string, change_key string, featurized_at timestamp"
    )
    return feature_store.join(keys, [*IMAGE_KEY, "featurized_at"], "left_semi")
