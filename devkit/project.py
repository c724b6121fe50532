"""Throw-away copies of the project, and `kedro` run in them as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from devkit.paths import MINI_SET, PROJECT_ROOT
from fruits.datasets.table import read_published

PROJECT_FILES = ("pyproject.toml", ".telemetry", "conf", "src")
# conf/local as in a fresh clone: the local Spark master, none of this machine's own settings.
TRACKED_LOCAL_CONF = ("spark.yml",)


def copy_project(target: Path, images: bool = True) -> Path:
    """Same code and configuration as a fresh clone, its own data folder."""
    for name in PROJECT_FILES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("local", "__pycache__"))
        elif source.is_file():
            shutil.copy(source, target / name)
    (target / "conf" / "local").mkdir()
    for name in TRACKED_LOCAL_CONF:
        shutil.copy(PROJECT_ROOT / "conf" / "local" / name, target / "conf" / "local" / name)
    (target / ".jars").symlink_to(PROJECT_ROOT / ".jars")  # the jars `make setup` fetched, as in a set-up clone
    if images:
        shutil.copytree(MINI_SET, target / "data" / "01_raw" / "fruits-360-mini" / "Test")
    return target


def kedro(project: Path, *args: str, timeout: float = 900, unset: tuple[str, ...] = (),
          **env: str) -> subprocess.CompletedProcess[str]:
    """`kedro ARGS` in ``project`` with this interpreter, ``env`` added and ``unset`` removed from the
    environment; output captured (stdout and stderr together)."""
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200", **env}
    for name in unset:
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "kedro", *args], cwd=project, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False,
    )


def published(root: Path) -> dict:
    """The pointer's content (current.json) under a data root."""
    return json.loads((root / "current.json").read_text())


def published_table(root: Path, table: str) -> pd.DataFrame:
    """A published table, read the way the README tells users: delta-rs at the version the pointer names."""
    return read_published(str(root), table)


def published_file(root: Path, path: str) -> Path:
    """Where the published version of a run output (e.g. ``08_reporting/run_summary.json``) is."""
    return root / published(root)["datasets"][path]


def published_json(root: Path, path: str) -> dict:
    return json.loads(published_file(root, path).read_text())
