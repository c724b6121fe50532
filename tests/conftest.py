"""Shared fixtures: one local Spark session for the fast tests, the real image sets and weights."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MINI_SET = PROJECT_ROOT / "data" / "01_raw" / "fruits-360-mini" / "Test"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
FULL_SET = SHARED_DATA / "fruits-360" / "Test"
WEIGHTS = SHARED_DATA / "weights" / "mobilenet_v2_1.0_224_no_top_tfslim.h5"

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def spark():
    """A small local Spark session shared by the fast tests (≈ 10 s to start once)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def real_weights() -> Path:
    """The real ImageNet MobileNetV2 no-top weights shipped in ../shared (see its SOURCE.md)."""
    if not WEIGHTS.is_file():
        pytest.fail(f"Real MobileNetV2 weights expected at {WEIGHTS} (see ../shared/data/weights/SOURCE.md).")
    return WEIGHTS


@pytest.fixture
def mini_tree(tmp_path: Path) -> Path:
    """A writable copy of the embedded 10-class x 8-image set."""
    target = tmp_path / "Test"
    shutil.copytree(MINI_SET, target)
    return target


@pytest.fixture(scope="session")
def small_model():
    """A small model from Keras' MobileNetV2 architecture (random weights): for tests that only need shapes."""
    from fruits.datasets.mobilenet import build_mobilenet_v2

    return build_mobilenet_v2(image_size=96, weights=None)
