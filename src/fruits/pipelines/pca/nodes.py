"""PCA: Spark ML PCA on the 1280-d features, k chosen from the explained variance."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.ml.feature import PCA, VectorSlicer
from pyspark.ml.functions import array_to_vector
from pyspark.sql import DataFrame

from fruits.tables import featurized_rows

logger = logging.getLogger(__name__)

FEATURE_VECTOR = "feature_vector"
ALL_COMPONENTS = "pca_all"
PCA_VECTOR = "pca_vector"


def accepted_features(image_features: DataFrame) -> DataFrame:
    """The featurized rows with their features as an ML vector, as Spark ML's PCA takes them."""
    return featurized_rows(image_features).withColumn(FEATURE_VECTOR, array_to_vector("features"))


def choose_k(explained_variance: np.ndarray, target: float, fixed_k: int | None = None) -> int:
    """Smallest k whose cumulative explained variance reaches ``target``, or ``fixed_k`` when set.

    When the fitted components never reach the target, all of them are kept.
    """
    if fixed_k is not None:
        return int(fixed_k)
    if not 0 < target <= 1:
        raise ValueError(f"pca.variance_target must be in (0, 1], got {target}.")
    reached = np.flatnonzero(np.cumsum(explained_variance) >= target - 1e-9)
    return int(reached[0]) + 1 if reached.size else len(explained_variance)


def variance_table(explained_variance: np.ndarray) -> pd.DataFrame:
    """The explained-variance curve: per-component and cumulative share of the total variance."""
    return pd.DataFrame(
        {
            "component": np.arange(1, len(explained_variance) + 1),
            "explained_variance": explained_variance,
            "cumulative": np.cumsum(explained_variance),
        }
    )


def fit_rows(features: DataFrame, max_rows: int | None, seed: int) -> DataFrame:
    """A seeded sample of at most ~``max_rows`` rows to fit on (all rows when ``max_rows`` is None).

    Spark adds each row to the 1280² covariance as a rank-1 update (memory-bound, ~1 ms per row here), so a fit on
    every row would grow linearly with the image count while a few thousand rows already pin the components down.
    """
    if max_rows is None:
        return features
    total = features.count()
    if total <= max_rows:
        return features
    logger.info("PCA fitted on a seeded sample of ~%d of %d rows (pca.max_fit_rows)", max_rows, total)
    return features.sample(fraction=max_rows / total, seed=seed)


def fit_pca(image_features: DataFrame, settings: dict[str, Any]) -> tuple[PipelineModel, pd.DataFrame]:
    """Fit PCA once with the largest k allowed and keep the first k components.

    Spark's PCA builds the covariance in full whatever k is, so a second fit with the chosen k would only repeat
    two passes over the data; slicing the first k components of one fit gives the same projection.
    """
    features = accepted_features(image_features)
    first_rows = features.select("features").limit(2).collect()
    if len(first_rows) < 2:
        raise ValueError(f"PCA needs at least 2 featurized images, got {len(first_rows)}: see the rejects table.")
    dimension = len(first_rows[0]["features"])
    fixed_k = settings.get("n_components")
    if fixed_k is not None and not 1 <= int(fixed_k) <= dimension:
        raise ValueError(f"pca.n_components must be between 1 and {dimension}, got {fixed_k}.")
    fit_k = min(dimension, int(fixed_k or settings["max_components"]))
    sample = fit_rows(features, settings.get("max_fit_rows"), int(settings.get("seed", 42)))
    fitted = PCA(k=fit_k, inputCol=FEATURE_VECTOR, outputCol=ALL_COMPONENTS).fit(sample)
    explained = np.asarray(fitted.explainedVariance.toArray())
    k = choose_k(explained, float(settings["variance_target"]), fixed_k)
    logger.info("PCA keeps k=%d of %d components (%.1f%% of the variance)", k, dimension,
                100 * float(np.sum(explained[:k])))
    slicer = VectorSlicer(inputCol=ALL_COMPONENTS, outputCol=PCA_VECTOR, indices=list(range(k)))
    return PipelineModel(stages=[fitted, slicer]), variance_table(explained)
