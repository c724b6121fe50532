"""The session's settings: the project's files found from any working directory, and the class archive that
`make setup` dumps mapped by a local JVM."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from devkit.paths import PROJECT_ROOT
from fruits.spark import scratch_folders, with_project_files

ARCHIVE_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:SharedArchiveFile=.jars/spark-classes.jsa -Xlog:cds=off"


def test_relative_jars_and_class_archive_are_found_under_the_project() -> None:
    conf = with_project_files({
        "spark.jars": ".jars/delta.jar, /opt/other.jar,s3://bucket/x.jar",
        "spark.driver.extraJavaOptions": ARCHIVE_OPTIONS,
        "spark.executor.extraJavaOptions": "-XX:SharedArchiveFile=/abs/classes.jsa",
        "spark.master": "local[2]",
    }, Path("/project"))
    assert conf["spark.jars"] == "/project/.jars/delta.jar,/opt/other.jar,s3://bucket/x.jar"
    assert conf["spark.driver.extraJavaOptions"] == (
        "-XX:TieredStopAtLevel=1 -XX:SharedArchiveFile=/project/.jars/spark-classes.jsa -Xlog:cds=off")
    assert conf["spark.executor.extraJavaOptions"] == "-XX:SharedArchiveFile=/abs/classes.jsa"
    assert conf["spark.master"] == "local[2]"
    assert with_project_files({"spark.master": "yarn"}, Path("/project")) == {"spark.master": "yarn"}


SESSION = """
import sys
from fruits.spark import start_spark
from tests.support.spark import local_spark_config
conf = local_spark_config()
conf["spark.driver.extraJavaOptions"] += f" -Xlog:class+load=info:file={sys.argv[1]}"
start_spark(conf).range(3).count()
"""


@pytest.mark.integration
def test_a_local_jvm_maps_spark_from_the_class_archive(tmp_path: Path) -> None:
    log = tmp_path / "classes.log"
    subprocess.run([sys.executable, "-c", SESSION, str(log)], cwd=PROJECT_ROOT, check=True, capture_output=True)
    loaded = [line for line in log.read_text().splitlines() if " org.apache.spark.SparkContext " in line]
    assert loaded and "source: shared objects file (top)" in loaded[0], (
        f"Spark's classes were not mapped from {PROJECT_ROOT / '.jars/spark-classes.jsa'}: run `make setup`; {loaded}")


def test_the_scratch_folders_are_the_driver_jvms_own(spark: SparkSession) -> None:
    spark.range(100).repartition(3).count()  # a shuffle writes blocks
    folders = [Path(folder) for folder in scratch_folders(spark)]
    assert [folder.name.split("-")[0] for folder in folders] == ["spark", "blockmgr"]
    assert any(folders[0].glob("userFiles-*/delta-spark_2.12.jar"))  # the jars Spark copied
    assert any(path.is_file() for path in folders[1].rglob("*"))
