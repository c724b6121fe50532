"""Custom Kedro datasets: image folders read with Spark's binaryFile reader, MobileNetV2 weights, Spark ML models."""

from fruits.datasets.image_folder import ImageFolderDataset
from fruits.datasets.mobilenet import MobileNetV2Dataset
from fruits.datasets.spark_ml import SparkMLModelDataset

__all__ = ["ImageFolderDataset", "MobileNetV2Dataset", "SparkMLModelDataset"]
