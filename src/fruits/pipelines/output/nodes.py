"""Output: the results table (path, label, features, pca_features) and the rejects table."""

from __future__ import annotations

from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fruits.pipelines.pca.nodes import PCA_VECTOR, accepted_features


def project_features(image_features: DataFrame, pca_model: PipelineModel) -> DataFrame:
    """Results table: every featurized image with its PCA projection, as plain float arrays for pandas/pyarrow."""
    projected = pca_model.transform(accepted_features(image_features))
    return projected.select(
        "path", "label", "features", vector_to_array(PCA_VECTOR, "float32").alias("pca_features")
    )


def collect_rejects(image_features: DataFrame) -> DataFrame:
    """Images that could not be featurized, with the reason: nothing is dropped silently."""
    return image_features.where(F.col("error").isNotNull()).select("path", "label", F.col("error").alias("reason"))
