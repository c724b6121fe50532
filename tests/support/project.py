"""Throw-away copies of the project, and `kedro` run in them as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.paths import MINI_SET, PROJECT_ROOT

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
    if images:
        shutil.copytree(MINI_SET, target / "data" / "01_raw" / "fruits-360-mini" / "Test")
    return target


def kedro(project: Path, *args: str, timeout: float = 900, **env: str) -> subprocess.CompletedProcess[str]:
    """`kedro ARGS` in ``project`` with this interpreter; output captured (stdout and stderr together)."""
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200", **env}
    return subprocess.run(
        [sys.executable, "-m", "kedro", *args], cwd=project, env=environment, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False,
    )
