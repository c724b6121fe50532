"""Output: the results table (path, label, features, pca_features) and the rejects table."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import ArrayType, FloatType

from fruits.pca_model import projection_matrix
from fruits.tables import featurized_rows


def project_features(image_features: DataFrame, pca_model: PipelineModel) -> DataFrame:
    """Results table: every featurized image with its PCA projection, as plain float arrays for pandas/pyarrow.

    The projection is the saved model's (``features @ components``), computed as one matrix product per Arrow
    batch, where Spark ML's transform goes row by row through three vector UDFs. Tests check both give the same
    numbers.
    """
    components = image_features.sparkSession.sparkContext.broadcast(projection_matrix(pca_model))

    @pandas_udf(ArrayType(FloatType()))
    def project(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        matrix = components.value
        for features in batches:
            projected = (np.stack(features.to_numpy()).astype(np.float64) @ matrix).astype(np.float32)
            yield pd.Series(list(projected), index=features.index)

    projected = project("features").alias("pca_features")
    return featurized_rows(image_features).select("path", "label", "features", projected)


def collect_rejects(image_features: DataFrame) -> DataFrame:
    """Images that could not be featurized, with the reason: nothing is dropped silently."""
    return image_features.where(F.col("error").isNotNull()).select("path", "label", F.col("error").alias("reason"))
