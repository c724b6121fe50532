"""Dump the classes a local run's JVM loads (JDK, Scala, Spark, Delta Lake, Spark ML) into a class archive (AppCDS)
that ``conf/local/spark.yml`` maps into every local JVM: each start then maps them instead of reading, verifying and
linking them again. Run by ``make setup``: ``python scripts/spark_class_archive.py .jars/spark-classes.jsa``.

The JVM writes the archive when it exits, so the session runs the kinds of job a run runs (a Python task, an
iterator pandas UDF, Delta writes, MERGE, time travel, OPTIMIZE, a window, a Spark ML PCA) and its JVM is waited for.
The archive is written beside its target and renamed: an interrupted setup leaves no half archive.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from delta.tables import DeltaTable
from pyspark import SparkContext
from pyspark.ml.feature import PCA
from pyspark.ml.functions import array_to_vector
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import ArrayType, FloatType

from fruits.config import load_config
from fruits.spark import CLASS_ARCHIVE, JAVA_OPTIONS, start_spark

PROJECT = Path(__file__).resolve().parents[1]


def dumping_config(target: Path) -> dict[str, str]:
    """The local environment's Spark settings, with the driver's JVM told to dump its classes into ``target``
    instead of mapping an archive."""
    config = dict(load_config(PROJECT, "local")["spark"])
    for key in JAVA_OPTIONS:
        kept = [option for option in str(config.get(key, "")).split() if not option.startswith(CLASS_ARCHIVE)]
        config[key] = " ".join(kept)
    config["spark.master"] = "local[2]"
    config["spark.driver.extraJavaOptions"] += f" -XX:ArchiveClassesAtExit={target}"
    return config


def run_jobs(spark: SparkSession, folder: Path) -> None:
    """One small job of each kind a run makes."""
    spark.sparkContext.parallelize(range(8), 2).mapPartitions(lambda part: [sum(part)]).collect()

    @pandas_udf(ArrayType(FloatType()))
    def vectors(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        for paths in batches:
            yield pd.Series(np.random.default_rng(0).random((len(paths), 8), dtype=np.float32).tolist())

    rows = spark.range(500).select(F.col("id").cast("string").alias("path"), (F.col("id") % 5).alias("label"))
    table = str(folder / "table")
    rows.withColumn("features", vectors("path")).write.format("delta").save(table)
    rank = Window.partitionBy("label").orderBy(F.xxhash64(F.lit(1), F.col("path")))
    changes = rows.withColumn("rank", F.row_number().over(rank)).where("rank <= 50").drop("rank")
    (DeltaTable.forPath(spark, table).alias("t").merge(changes.alias("c"), "t.path = c.path")
     .whenMatchedDelete().execute())
    old = spark.read.format("delta").option("versionAsOf", 0).load(table)
    old.join(rows.select("path"), "path", "full_outer").groupBy("label").count().collect()
    DeltaTable.forPath(spark, table).optimize().executeCompaction()
    vectorized = old.select(array_to_vector("features").alias("vector"))
    PCA(k=2, inputCol="vector", outputCol="pca").fit(vectorized).write().save(str(folder / "pca"))


def main(target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    spark = start_spark(dumping_config(partial), PROJECT)
    with tempfile.TemporaryDirectory() as folder:
        run_jobs(spark, Path(folder))
    spark.stop()
    jvm = SparkContext._gateway.proc  # the JVM exits when its stdin closes, and dumps its classes then
    jvm.stdin.close()
    jvm.wait()
    if not partial.is_file():
        raise SystemExit(f"The JVM wrote no class archive at {partial}: run `make setup` again.")
    os.replace(partial, target)
    print(f"Spark's class archive for local JVMs: {target} ({target.stat().st_size // 2**20} MiB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
