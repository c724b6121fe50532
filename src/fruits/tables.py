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

import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from fruits.rejects import RETRIED

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
# The published results: one row per featurized image of the current sample, with its PCA projection. The 1280-d
# vector stays in the feature store, whose row it is by ``path``, ``change_key`` and ``fingerprint`` (the results
# never copy it, so a run writes each vector once). ``pca_run_id`` is the run whose PCA fit projected the row: rows
# projected by any other fit are projected again.
RESULTS = pa.schema([
    ("path", pa.string()),
    ("label", pa.string()),
    ("change_key", pa.string()),
    ("fingerprint", pa.string()),
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

# What identifies a store row and says what became of the image, without its vector.
LIVE_COLUMNS = ["path", "change_key", "featurized_at", "label", "reject_kind", "reject_detail", "run_id"]

# One sampled image: what the featurization reads and the feature store's first columns.
SAMPLE = pa.schema([
    ("path", pa.string()),
    ("relative_path", pa.string()),
    ("label", pa.string()),
    ("change_key", pa.string()),
])
SAMPLE_COLUMNS = SAMPLE.names
# Every listed file with what it is (``status``: image, ignored or rejected; ``detail``: the kind of ignored file
# or reject): the run's manifest.
LISTING = pa.schema([
    ("path", pa.string()),
    ("relative_path", pa.string()),
    ("label", pa.string()),
    ("size", pa.int64()),
    ("change_key", pa.string()),
    ("status", pa.string()),
    ("detail", pa.string()),
])
# The images (path, change key) a PCA fit describes: what was added, changed or left since.
FIT_IMAGES = pa.schema([("path", pa.string()), ("change_key", pa.string())])

# What the manifest says a listed file is.
IMAGE, IGNORED, REJECTED = "image", "ignored", "rejected"


@dataclass(frozen=True)
class Table:
    """A Delta table of the data root: its folder (relative to the root, fixed, so that any engine finds it), its
    columns, whether it is the run's own bookkeeping (the listing, the sample) rather than an output users read,
    the columns whose digest runs keep, the others being derived from them, to skip a sync with a source equal to
    it (the listing's files, classified by their paths: :class:`fruits.datasets.table.TableDataset`), and whether
    Delta records its changes (its change data feed), so that the nodes that follow it read what changed since the
    published version instead of comparing whole versions."""

    name: str
    location: str
    schema: pa.Schema
    bookkeeping: bool = False
    digest: tuple[str, ...] = ()
    change_feed: bool = False


TABLES = {table.name: table for table in (
    Table("feature_store", "04_feature/feature_store", FEATURE_STORE),
    Table("results", "07_model_output/results", RESULTS, change_feed=True),
    Table("rejects", "07_model_output/rejects", REJECTS),
    Table("listing", "02_intermediate/listing", LISTING, bookkeeping=True,
          digest=("path", "relative_path", "size", "change_key"), change_feed=True),
    Table("sample", "02_intermediate/sample", SAMPLE, bookkeeping=True, change_feed=True),
    Table("pca_fit_images", "06_models/pca_fit_images", FIT_IMAGES, bookkeeping=True),
)}


def spark_schema(schema: pa.Schema) -> StructType:
    """The same columns as Spark types (one definition for pyarrow, pandas and Spark)."""
    return from_arrow_schema(schema)


def seeded_rank(column: str, seed: int) -> Column:
    """A seeded pseudo-random order of a string column: the same for the same names and seed, wherever the tree
    lives, on any number of executors."""
    return F.xxhash64(F.lit(seed), F.col(column))


def live_keys(feature_store: DataFrame, images: DataFrame, fingerprint: str) -> DataFrame:
    """For each of ``images`` (any frame with ``path`` and ``change_key``) the store holds, its newest row of the
    current model (an image is featurized twice by a full refresh, or by a retry after a read error), without the
    vector: ``path``, ``change_key``, ``featurized_at``, ``label``, ``reject_kind``, ``reject_detail`` and the
    ``run_id`` that wrote it. Computed on
    the executors on these small columns only: the 1280-float vectors are never shuffled to find them."""
    rows = feature_store.where(F.col("fingerprint") == fingerprint).select(*LIVE_COLUMNS)
    current = rows.join(images.select(*IMAGE_KEY).dropDuplicates(), IMAGE_KEY, "left_semi")
    newest_first = Window.partitionBy(*IMAGE_KEY).orderBy(F.col("featurized_at").desc())  # the join's partitioning
    return current.withColumn("age", F.row_number().over(newest_first)).where(F.col("age") == 1).drop("age")


def featurized_keys(feature_store: DataFrame, images: DataFrame, fingerprint: str) -> DataFrame:
    """The :func:`live_keys` that hold features (no reject kind): what the PCA fits on and the results show."""
    return live_keys(feature_store, images, fingerprint).where(F.col("reject_kind").isNull())


def with_features(feature_store: DataFrame, keys: DataFrame, runs: list[str] | None = None) -> DataFrame:
    """The store rows (vectors included) of ``keys`` (from :func:`live_keys`): one semi-join, which Spark
    broadcasts when the keys are few (a run's new images), so the store's vectors stay where they are.

    ``runs``: the runs that wrote those rows (their ``run_id``), when they are few. Only their files are then read:
    Delta skips the others by the ``run_id`` range it records for each file, so a run's new images are projected
    without decoding every vector of the store."""
    rows = feature_store if runs is None else feature_store.where(F.col("run_id").isin(runs))
    return rows.join(keys.select(*IMAGE_KEY, "featurized_at"), [*IMAGE_KEY, "featurized_at"], "left_semi")


def materialized(frame: DataFrame) -> DataFrame:
    """``frame`` cached and computed: Spark's planner then sizes it by its cached bytes, not by its sources, and
    broadcasts it into a join when it is small instead of shuffling the other side."""
    frame.persist().count()
    return frame


def is_retried(reject_kind: Column) -> Column:
    """True where a store row's ``reject_kind`` says the next run tries the image again; false for features (no
    kind). The one test of it, for the plan that tries those images again and the record that says some are left."""
    return F.coalesce(reject_kind.isin([kind.value for kind in RETRIED]), F.lit(False))
