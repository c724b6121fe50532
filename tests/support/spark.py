"""The settings of the tests' local Spark session, in one place: a package the session needs (jars, SQL
extensions) is added here once, for every test that uses the ``spark`` fixture."""

from __future__ import annotations

import pytest

from devkit.paths import JARS_DIR
from fruits.spark import CLASS_ARCHIVE

DELTA_JARS = ("delta-spark_2.12.jar", "delta-storage.jar")
S3A_JARS = ("hadoop-aws.jar", "aws-java-sdk-bundle.jar")  # local Spark against moto S3


def project_jars(*names: str) -> list[str]:
    """Jars of the project's cache (``make setup`` fetches them from Maven Central); a test fails, with the command
    to run, when they are not there."""
    missing = [name for name in names if not (JARS_DIR / name).is_file()]
    if missing:
        pytest.fail(f"Jars missing in {JARS_DIR}: {', '.join(missing)}; run `make setup` (scripts/fetch_jars.sh).")
    return [str(JARS_DIR / name) for name in names]


def local_spark_config() -> dict[str, str]:
    """Two local cores, few shuffle partitions (the test tables are small), Arrow transfers, no web UI, Python
    workers, JIT, class archive and Delta Lake as in conf/base and conf/local, and the S3A connector (tests that
    read moto's S3 point it there: ``s3_spark``)."""
    return {
        "spark.master": "local[2]",
        "spark.driver.extraJavaOptions": f"-XX:TieredStopAtLevel=1 {CLASS_ARCHIVE}{JARS_DIR / 'spark-classes.jsa'} "
                                         "-Xlog:cds=off -Xlog:cds+dynamic=off",
        "spark.python.daemon.module": "fruits.pyspark_daemon",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.jars": ",".join(project_jars(*DELTA_JARS, *S3A_JARS)),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.databricks.delta.vacuum.logging.enabled": "false",
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
        "spark.sql.session.timeZone": "UTC",
    }
