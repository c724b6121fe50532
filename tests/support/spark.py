"""The settings of the tests' local Spark session, in one place: a package the session needs (jars, SQL
extensions) is added here once, for every test that uses the ``spark`` fixture."""

from __future__ import annotations

import pytest

from devkit.paths import JARS_DIR, PROJECT_ROOT
from fruits.config import load_config
from fruits.spark import with_project_files

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
    """The project's own local Spark settings (conf/base and conf/local: Arrow, Python workers, JIT, class archive,
    Delta Lake, time zone...), with what tests change: two cores, few shuffle partitions and listing tasks (the test
    tables are small), no web UI, and the S3A connector's jars besides Delta's (tests that read moto's S3 point it
    there: ``s3_spark``)."""
    project = with_project_files(dict(load_config(PROJECT_ROOT, "local")["spark"]), PROJECT_ROOT)
    return {
        **{key: str(value) for key, value in project.items()},
        "spark.master": "local[2]",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
        "spark.ui.enabled": "false",
        "spark.jars": ",".join(project_jars(*DELTA_JARS, *S3A_JARS)),
    }
