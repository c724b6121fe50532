"""The Spark session of a run, started by the project's run hook from the environment's ``spark.yml``.

The hook starts it in the background when the pipeline starts: the JVM boots while the first nodes (listing,
sampling, planning: pandas on the driver) run, and the hook hands the session's future to the datasets and nodes
that need it (the first to call it waits).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kedro.io.core import DatasetError
from pyspark import SparkConf
from pyspark.sql import SparkSession

from fruits.uris import is_plain_path

logger = logging.getLogger(__name__)


CLASS_ARCHIVE = "-XX:SharedArchiveFile="  # the JVM option that maps a class archive (AppCDS) at start
JAVA_OPTIONS = ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")


def with_project_files(spark_conf: dict[str, Any], project_path: Path) -> dict[str, Any]:
    """``spark.jars`` and the JVMs' class archive (``-XX:SharedArchiveFile=``) with their relative paths (the
    project's ``.jars/`` cache) made absolute, so that Spark finds them from any working directory (a notebook runs
    in ``notebooks/``)."""
    def absolute(path: str) -> str:
        return str(project_path / path) if is_plain_path(path) and not Path(path).is_absolute() else path

    conf = dict(spark_conf)
    jars = [jar.strip() for jar in str(spark_conf.get("spark.jars") or "").split(",") if jar.strip()]
    if jars:
        conf["spark.jars"] = ",".join(absolute(jar) for jar in jars)
    for key in JAVA_OPTIONS:
        if key in conf:
            conf[key] = " ".join(CLASS_ARCHIVE + absolute(option.removeprefix(CLASS_ARCHIVE))
                                 if option.startswith(CLASS_ARCHIVE) else option for option in str(conf[key]).split())
    return conf


def missing_jars(spark_conf: dict[str, Any]) -> list[str]:
    """The local files named by ``spark.jars`` that are not there (a clone where `make setup` never ran)."""
    jars = [jar.strip() for jar in str(spark_conf.get("spark.jars") or "").split(",") if jar.strip()]
    return [jar for jar in jars if is_plain_path(jar) and not Path(jar).is_file()]


def start_spark(spark_conf: dict[str, Any], project_path: Path | None = None) -> SparkSession:
    """Start (or reuse) the Spark session from the environment's ``spark.yml`` (its relative jars found under
    ``project_path``: ``start_spark(context.config_loader["spark"], context.project_path)`` in a notebook).

    Python workers run ``$PYSPARK_PYTHON`` (else the ``python3`` on PATH, often without our packages),
    so it defaults to this interpreter; local masters stay on the loopback interface.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if str(spark_conf.get("spark.master", "")).startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if project_path is not None:
        spark_conf = with_project_files(spark_conf, project_path)
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


def start_spark_in_background(spark_conf: dict[str, Any]) -> Future[SparkSession]:
    """Start the session on a thread of its own."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="spark-start")
    session = pool.submit(start_spark, spark_conf)
    pool.shutdown(wait=False)
    return session


def scratch_folders(spark: SparkSession) -> list[str]:
    """The driver JVM's folders under ``spark.local.dir``: its copies of the jars and Python files (``spark-*``)
    and its shuffle and spilled blocks (``blockmgr-*``). The JVM deletes them as it exits; a JVM that is killed
    leaves them behind, so whoever kills it deletes them."""
    context = spark.sparkContext
    blocks = context._jvm.org.apache.spark.SparkEnv.get().blockManager().diskBlockManager()
    return [os.path.dirname(context._temp_dir), *(folder.getAbsolutePath() for folder in blocks.localDirs())]


def stop_spark(session: Future[SparkSession]) -> None:
    """Release executors cleanly: a cluster would otherwise log the app as failed after a good run."""
    if session.exception() is None:  # one that never started has nothing to stop; its error is the run's
        session.result().stop()


def existing_spark() -> SparkSession:
    """The session already running in this process (outside ``kedro run``: a notebook's, a test's)."""
    session = SparkSession.getActiveSession() or SparkSession._instantiatedSession  # started on another thread
    if session is None:
        raise DatasetError(
            "No Spark session: in a notebook, start one first with `spark = fruits.spark.start_spark("
            "context.config_loader['spark'], context.project_path)` (`kedro run` starts its own)."
        )
    return session
