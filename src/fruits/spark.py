"""The Spark session of a run: started by the project's hook from the environment's ``spark.yml``, found here.

The hook starts it in the background when the pipeline starts: the JVM boots while the first nodes (listing,
sampling, planning: pandas on the driver) run, and whoever needs Spark first waits for it here.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
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


class _Starting:
    """The session being started for the run in progress (one at a time)."""

    session: Future[SparkSession] | None = None


_STARTING = _Starting()


def start_spark_in_background(spark_conf: dict[str, Any]) -> None:
    """Start the session on a thread of its own; :func:`active_spark` waits for it."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="spark-start")
    _STARTING.session = pool.submit(start_spark, spark_conf)
    pool.shutdown(wait=False)


def stop_spark() -> None:
    """Release executors cleanly: a cluster would otherwise log the app as failed after a good run."""
    starting, _STARTING.session = _STARTING.session, None
    if starting is not None and starting.exception() is not None:
        return  # it never started; its error is the run's
    session = starting.result() if starting is not None else SparkSession.getActiveSession()
    if session is not None:
        session.stop()


def active_spark() -> SparkSession:
    """The session of the run in progress (nodes and datasets never start one with default settings)."""
    if _STARTING.session is not None:
        return _STARTING.session.result()
    session = SparkSession.getActiveSession()
    if session is None:
        raise DatasetError("No Spark session: this runs inside `kedro run`, whose hook starts Spark.")
    return session
