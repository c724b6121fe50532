"""Shared fixtures: one local Spark session for the fast tests, the real image sets and weights, the tiny model."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from fruits.engines import ModelPayload
from tests.support.paths import FIXTURE_MODEL, FIXTURE_MODEL_SIZE, MINI_SET, require_weights
from tests.support.spark import local_spark_config

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def spark():
    """A small local Spark session shared by the tests that need one (started once: the JVM takes seconds)."""
    session = SparkSession.builder.config(map=local_spark_config()).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def real_weights() -> Path:
    """The real ImageNet MobileNetV2 no-top weights shipped in ../shared (see its SOURCE.md)."""
    return require_weights()


@pytest.fixture
def mini_tree(tmp_path: Path) -> Path:
    """A writable copy of the embedded 10-class x 8-image set."""
    target = tmp_path / "Test"
    shutil.copytree(MINI_SET, target)
    return target


@pytest.fixture(scope="session")
def small_payload() -> ModelPayload:
    """The committed tiny TFLite model as the executors get it: the engine's input and output shapes, meaningless
    features; for tests that need only the shapes (no TensorFlow, no weights). tests/support/make_fixture_model.py
    writes it."""
    return ModelPayload(engine="tflite", image_size=FIXTURE_MODEL_SIZE, blob=FIXTURE_MODEL.read_bytes(),
                        fingerprint="fp1")
