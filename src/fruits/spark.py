"""The Spark session of a run: started by the project's hook from the environment's ``spark.yml``, found here."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from kedro.io.core import DatasetError
from pyspark import SparkConf
from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)


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


def stop_spark() -> None:
    """Release executors cleanly: a cluster would otherwise log the app as failed after a good run."""
    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


def active_spark() -> SparkSession:
    """The session of the run in progress (nodes and datasets never start one with default settings)."""
    session = SparkSession.getActiveSession()
    if session is None:
        raise DatasetError("No Spark session: this runs inside `kedro run`, whose hook starts Spark.")
    return session
