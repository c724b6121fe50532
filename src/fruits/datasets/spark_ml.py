"""A fitted Spark ML pipeline model, persisted with Spark ML's own writer so any Spark job can load it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kedro.io import AbstractDataset
from pyspark.ml import PipelineModel
from pyspark.sql import SparkSession

from fruits.spark import existing_spark

# Spark ML's writers put a model's data (a PCA's 1280 × max_components matrix: 4 MB) in a one-row local DataFrame,
# so the one task writing it carries the matrix, once. Spark's scheduler then warns of a "task of very large size",
# advice meant for closures shipped with every task of a job: it is kept quiet while a model is saved, and only then.
LARGE_TASK_LOGGER = "org.apache.spark.scheduler.TaskSetManager"


@contextmanager
def quiet_jvm_logger(spark: SparkSession, name: str) -> Iterator[None]:
    """The JVM logger ``name`` logs errors only inside the block, then its level is restored."""
    jvm = spark.sparkContext._jvm
    configurator = jvm.org.apache.logging.log4j.core.config.Configurator
    previous = jvm.org.apache.logging.log4j.LogManager.getLogger(name).getLevel()
    configurator.setLevel(name, jvm.org.apache.logging.log4j.Level.ERROR)
    try:
        yield
    finally:
        configurator.setLevel(name, previous)


class SparkMLModelDataset(AbstractDataset[PipelineModel, PipelineModel]):
    """Saves with ``model.write().overwrite().save(path)``; loads with ``PipelineModel.load(path)``."""

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = filepath
        self.metadata = metadata

    def load(self) -> PipelineModel:
        existing_spark()  # a clear error when there is none (Spark ML's own is an assertion)
        return PipelineModel.load(self._filepath)

    def save(self, data: PipelineModel) -> None:
        with quiet_jvm_logger(existing_spark(), LARGE_TASK_LOGGER):
            data.write().overwrite().save(self._filepath)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}
