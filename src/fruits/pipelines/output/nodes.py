"""Output: the results table (features and PCA projection of every featurized image of the sample) kept current by
changes, and the rejects table (every image that gave no features, with the kind of reject and its detail)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import ArrayType, FloatType

from fruits.datasets.table import TableChange
from fruits.params import OutputParams
from fruits.tables import IMAGE_KEY, REJECTED, featurized_keys, live_features, newest_keys

REJECT_COLUMNS = ["path", "label", "reject_kind", "reject_detail"]


def project(features: DataFrame, pca_components: np.ndarray) -> DataFrame:
    """Results rows: the features with their projection on the PCA model's kept components.

    ``features @ components`` is one matrix product per Arrow batch, where Spark ML's transform goes row by row
    through three vector UDFs; tests check both give the same numbers.
    """
    components = features.sparkSession.sparkContext.broadcast(pca_components)

    @pandas_udf(ArrayType(FloatType()))
    def projected(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        matrix = components.value
        for vectors in batches:
            values = (np.stack(vectors.to_numpy()).astype(np.float64) @ matrix).astype(np.float32)
            yield pd.Series(list(values), index=vectors.index)

    return features.select("path", "label", "change_key", "features", projected("features").alias("pca_features"))


def changed_keys(live: pd.DataFrame, results_index: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keys (path, change key) the results lack, and results rows whose key is no longer live (changed or deleted
    images): the results are compared with themselves, so a run of single pipelines in between cannot lose rows."""
    both = live[IMAGE_KEY].merge(results_index[IMAGE_KEY], on=IMAGE_KEY, how="outer", indicator=True)
    return (both.loc[both["_merge"] == "left_only", IMAGE_KEY], both.loc[both["_merge"] == "right_only", IMAGE_KEY])


def update_results(
    feature_store: DataFrame,
    feature_store_index: pd.DataFrame,
    results_index: pd.DataFrame,
    image_sample: pd.DataFrame,
    pca_components: np.ndarray,
    pca_fit: dict[str, Any],
    featurization_report: dict[str, Any],
    settings: OutputParams,
) -> TableChange:
    """The change to the results: everything re-projected after a refit or a full refresh; otherwise the images the
    results lack projected with the published model, and the rows of changed and deleted images removed."""
    fingerprint = featurization_report["fingerprint"]
    keys = featurized_keys(feature_store_index, image_sample, fingerprint)
    if pca_fit["refit"] or featurization_report["full_refresh"]:
        return TableChange(add=project(live_features(feature_store, keys, fingerprint), pca_components), replace=True)
    added, removed = changed_keys(keys, results_index)
    return TableChange(
        add=project(live_features(feature_store, added, fingerprint), pca_components) if len(added) else None,
        remove=removed["path"] if len(removed) else None,
        compact_above_files=settings.compact_above_files,
    )


def collect_rejects(
    image_manifest: pd.DataFrame, feature_store_index: pd.DataFrame, image_sample: pd.DataFrame,
    featurization_report: dict[str, Any],
) -> pd.DataFrame:
    """Every image of the tree that gave no features, with the kind of reject: images outside any class folder (the
    listing's detail is their kind), and the sampled images the network could not take (from the store, whichever
    run tried them)."""
    listed = image_manifest.loc[image_manifest["status"] == REJECTED, ["path", "label", "detail"]]
    listed = listed.rename(columns={"detail": "reject_kind"}).assign(reject_detail=None)
    keys = newest_keys(feature_store_index, image_sample, featurization_report["fingerprint"])
    failed = keys[keys["reject_kind"].notna()].merge(image_sample[[*IMAGE_KEY, "label"]], on=IMAGE_KEY)
    rejects = pd.concat([listed, failed[REJECT_COLUMNS]], ignore_index=True)
    return rejects.sort_values("path", ignore_index=True)[REJECT_COLUMNS]
