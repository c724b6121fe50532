"""The settings of the tests' local Spark session, in one place: a package the session needs (jars, SQL
extensions) is added here once, for every test that uses the ``spark`` fixture."""

from __future__ import annotations


def local_spark_config() -> dict[str, str]:
    """Two local cores, few shuffle partitions (the test tables are small), Arrow transfers, no web UI."""
    return {
        "spark.master": "local[2]",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false",
    }
