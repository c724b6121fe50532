"""What the tables between pipelines hold: column helpers and schemas defined once, used by every pipeline."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# The featurization's output: features for the images that went through the network, a reason for the others.
FEATURE_TABLE_SCHEMA = "path string, label string, features array<float>, error string"


def parent_folder_name(path: Column) -> Column:
    """The class label: the parent folder's name exactly as written (binaryFile paths are not URL-encoded)."""
    return F.element_at(F.split(path, "/"), -2)


def file_name(path: Column) -> Column:
    """The last path segment: with the label it names an image independently of where the tree lives."""
    return F.element_at(F.split(path, "/"), -1)


def featurized_rows(image_features: DataFrame) -> DataFrame:
    """Rows whose image went through the network (the others are rejects)."""
    return image_features.where(F.col("error").isNull())
