"""A fitted Spark ML pipeline model, persisted with Spark ML's own writer so any Spark job can load it."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset
from pyspark.ml import PipelineModel

from fruits.spark import existing_spark


class SparkMLModelDataset(AbstractDataset[PipelineModel, PipelineModel]):
    """Saves with ``model.write().overwrite().save(path)``; loads with ``PipelineModel.load(path)``."""

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = filepath
        self.metadata = metadata

    def load(self) -> PipelineModel:
        existing_spark()  # a clear error when there is none (Spark ML's own is an assertion)
        return PipelineModel.load(self._filepath)

    def save(self, data: PipelineModel) -> None:
        data.write().overwrite().save(self._filepath)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}
