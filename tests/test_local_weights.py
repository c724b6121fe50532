"""scripts/local_weights.sh: the weights found next to the clone become this machine's default, once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devkit.paths import PROJECT_ROOT

pytestmark = pytest.mark.integration  # runs the script with bash


def clone_beside_shared(tmp_path: Path, with_weights: bool) -> Path:
    """A clone's scripts and conf/local next to a ../shared folder, as on the team's machines."""
    clone = tmp_path / "clone"
    (clone / "conf" / "local").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "scripts", clone / "scripts")
    if with_weights:
        weights = tmp_path / "shared" / "data" / "weights" / "mobilenet_v2_1.0_224_no_top_tfslim.h5"
        weights.parent.mkdir(parents=True)
        weights.write_bytes(b"weights")
    return clone


def run_script(clone: Path) -> str:
    return subprocess.run(["bash", str(clone / "scripts" / "local_weights.sh")], capture_output=True, text=True,
                          check=True).stdout


def test_the_shared_weights_become_the_local_default_without_replacing_yours(tmp_path: Path) -> None:
    clone = clone_beside_shared(tmp_path, with_weights=True)
    assert "MobileNetV2 weights for this machine" in run_script(clone)
    written = (clone / "conf" / "local" / "globals.yml").read_text()
    assert f"weights: {tmp_path}/shared/data/weights/mobilenet_v2_1.0_224_no_top_tfslim.h5\n" in written
    (clone / "conf" / "local" / "globals.yml").write_text("weights: mine.h5\n")
    assert run_script(clone) == ""
    assert (clone / "conf" / "local" / "globals.yml").read_text() == "weights: mine.h5\n"


def test_without_shared_weights_nothing_is_written(tmp_path: Path) -> None:
    clone = clone_beside_shared(tmp_path, with_weights=False)
    run_script(clone)
    assert not (clone / "conf" / "local" / "globals.yml").exists()
