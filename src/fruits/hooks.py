"""Project hooks: a lazily started Spark session, and per-stage timings for the report."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import click
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.core import DatasetError
from kedro.pipeline.node import Node
from pyspark import SparkConf
from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

RUN_METRICS = "run_metrics"
PRETRAINED_MODEL = "mobilenet_v2"
# Datasets that no catalog file defines: the hooks below put them into the catalog of every run.
HOOK_DATASETS = (RUN_METRICS,)


def start_spark(spark_conf: dict[str, Any]) -> SparkSession:
    """Start (or reuse) the Spark session from the environment's ``spark.yml``.

    Python workers run ``$PYSPARK_PYTHON`` (else the ``python3`` on PATH, often without our packages),
    so it defaults to this interpreter; local masters stay on the loopback interface.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if str(spark_conf.get("spark.master", "")).startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    conf = SparkConf().setAll([(key, str(value)) for key, value in spark_conf.items()])
    started = time.perf_counter()
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    logger.info(
        "Spark %s started (master %s, %d cores) in %.1f s",
        spark.version,
        spark.sparkContext.master,
        spark.sparkContext.defaultParallelism,
        time.perf_counter() - started,
    )
    return spark


class SparkHooks:
    """Starts Spark only when a pipeline runs, so ``kedro viz``/``kedro catalog`` never start a JVM."""

    def __init__(self) -> None:
        self._spark_conf: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._spark_conf = dict(context.config_loader["spark"])

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: DataCatalog) -> None:
        start_spark(self._spark_conf)

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._stop_spark()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._stop_spark()

    @staticmethod
    def _stop_spark() -> None:
        """Release executors cleanly: a cluster would otherwise log the app as failed after a good run."""
        session = SparkSession.getActiveSession()
        if session is not None:
            session.stop()


class PretrainedModelHooks:
    """Loads the pretrained model before any work starts: missing weights stop the run in one sentence."""

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: DataCatalog) -> None:
        if PRETRAINED_MODEL not in pipeline.inputs():
            return
        try:
            catalog.load(PRETRAINED_MODEL)  # the dataset keeps the model for the featurization node
        except DatasetError as error:
            raise click.ClickException(str(error.__cause__ or error)) from None


class RunMetricsHooks:
    """Measures each node's wall time including the writes of its outputs (Spark is lazy: writes do the work).

    The timings are exposed to the reporting pipeline as the in-memory dataset ``run_metrics``.
    """

    def __init__(self) -> None:
        self._stages: dict[str, float] = {}
        self._started: dict[str, float] = {}

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self._stages.clear()
        catalog[RUN_METRICS] = MemoryDataset(data={"stage_seconds": self._stages}, copy_mode="assign")

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        self._record(node)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        self._record(node)

    @hook_impl
    def after_pipeline_run(self) -> None:
        for name, seconds in self._stages.items():
            logger.info("stage %-28s %8.1f s", name, seconds)

    def _record(self, node: Node) -> None:
        self._stages[node.name] = round(time.perf_counter() - self._started[node.name], 3)
