"""The Python workers' daemon: PySpark's, without the archives Spark puts on the path when PySpark is installed."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from fruits.pyspark_daemon import without_archives


def site_packages() -> list[str]:
    return [entry for entry in sys.path if entry.endswith("site-packages")]


def test_archives_are_left_out_when_pyspark_and_py4j_are_installed(tmp_path: Path) -> None:
    archives = [str(tmp_path / "pyspark.zip"), str(tmp_path / "py4j-src.zip"), str(tmp_path / "spark-core.jar")]
    assert without_archives([*archives, *site_packages()]) == site_packages()


def test_the_path_is_kept_when_only_the_archives_provide_pyspark(tmp_path: Path) -> None:
    archive = tmp_path / "pyspark.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("pyspark/__init__.py", "")
        bundle.writestr("py4j/__init__.py", "")
    path = [str(archive), str(tmp_path / "elsewhere")]
    assert without_archives(path) == path


def test_a_path_without_archives_is_kept() -> None:
    assert without_archives(site_packages()) == site_packages()


def test_spark_python_workers_run_without_the_archives(spark) -> None:
    found = spark.sparkContext.parallelize([0], 1).map(
        lambda _: [entry for entry in __import__("sys").path if entry.endswith((".zip", ".jar"))]).collect()
    assert found == [[]]
