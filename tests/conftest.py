"""Shared fixtures (one local Spark session, the real image sets and weights, the tiny model) and the test tiers:
each test is marked ``unit`` or ``integration`` by what it uses, and a unit test that starts a process or imports
TensorFlow fails (tests/support/tiers.py)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from devkit.paths import MINI_SET
from fruits.engines import ModelPayload
from tests.support.aws import moto_server
from tests.support.paths import FIXTURE_MODEL, FIXTURE_MODEL_SIZE, require_weights
from tests.support.spark import local_spark_config
from tests.support.tiers import MARK_HINT, UnitGuard, heavy_modules, mark_tiers

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

UNIT_GUARD = pytest.StashKey[UnitGuard]()
UNIT_TIER_LOADED = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[UNIT_GUARD] = UnitGuard()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tiers(items)


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures are set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("unit"):
        item.config.stash[UNIT_GUARD].start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """A unit test that started a process or imported TensorFlow fails at teardown, naming what it started."""
    report = yield
    if call.when == "teardown" and item.get_closest_marker("unit"):
        started = item.config.stash[UNIT_GUARD].stop()
        if started and report.passed:
            report.outcome = "failed"
            report.longrepr = f"This unit test started {', '.join(started)}: {MARK_HINT}."
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """After a unit-only run, nothing slow may be loaded, not even by a module imported at collection."""
    if session.items and all(item.get_closest_marker("unit") for item in session.items) and (found := heavy_modules()):
        session.config.stash[UNIT_TIER_LOADED] = found
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if found := config.stash.get(UNIT_TIER_LOADED, []):
        terminalreporter.write_line(f"FAILED: the unit tier loaded {', '.join(found)}: {MARK_HINT}.", red=True)


@pytest.fixture(scope="session")
def spark():
    """A small local Spark session shared by the tests that need one (started once: the JVM takes seconds)."""
    session = SparkSession.builder.config(map=local_spark_config()).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A moto server on 127.0.0.1 for the session (tests reset it)."""
    with moto_server() as url:
        yield url


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
