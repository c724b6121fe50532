"""Custom Kedro datasets: the image tree, the inference model, run-scoped outputs, tables, Spark ML models."""

from fruits.datasets.image_tree import ImageTreeDataset
from fruits.datasets.inference_model import InferenceModelDataset
from fruits.datasets.run import RunDataset
from fruits.datasets.spark_ml import SparkMLModelDataset
from fruits.datasets.table import TableChangesDataset, TableDataset, TableVersionsDataset

__all__ = ["ImageTreeDataset", "InferenceModelDataset", "RunDataset", "SparkMLModelDataset", "TableChangesDataset",
           "TableDataset", "TableVersionsDataset"]
