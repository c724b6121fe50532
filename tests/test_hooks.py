"""What a user reads when a run cannot start: one sentence saying what to do, before any slow work.

Each case runs `kedro run` in a copy of the project (no Spark starts in any of them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.project import copy_project, kedro

pytestmark = pytest.mark.integration  # a `kedro` process per test


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("project"))


def error_line(project: Path, *args: str, unset: tuple[str, ...] = ()) -> str:
    """The run fails, with no traceback, on one `Error: ...` line, before Spark or the model conversion."""
    output = kedro(project, "run", *args, timeout=300, unset=unset).stdout
    assert "Traceback" not in output and "Spark" not in output and "Converted" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output[-3000:]
    return errors[0]


def test_a_missing_raw_folder_is_named_with_the_fix(project: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert error_line(project, "--params", f"raw_images={missing}") == (
        f"Error: Image folder {missing} does not exist: give the folder of class folders with "
        "`kedro run --params raw_images=/path/to/images` (or set raw_images in conf/*/globals.yml)."
    )


@pytest.mark.parametrize("content", [[], ["1.jpg", "2.jpg"]], ids=["empty", "images-without-class-folders"])
def test_a_folder_without_class_folders_is_refused(project: Path, tmp_path: Path, content: list[str]) -> None:
    for name in content:
        (tmp_path / name).write_bytes(b"x")
    assert error_line(project, "--params", f"raw_images={tmp_path}").startswith(
        f"Error: Image folder {tmp_path} has no class folders: put each class's images in a folder of its own"
    )


def test_a_bad_parameter_value_is_named(project: Path) -> None:
    assert error_line(project, "--params", "sampling.strategy=bogus") == (
        "Error: Invalid parameters: sampling.strategy: Input should be 'all', 'per_class' or 'total' (got 'bogus'). "
        "Fix conf/*/parameters.yml or the --params value."
    )


def test_a_misspelt_parameter_is_named_not_ignored(project: Path) -> None:
    assert "unknown parameter samplng (did you mean sampling?)" in error_line(
        project, "--params", "samplng.strategy=per_class"
    )


def test_the_cloud_environment_without_its_bucket_says_which_variable_to_set(project: Path) -> None:
    assert error_line(project, "--env=cloud", unset=("FRUITS_BUCKET",)) == (
        "Error: Environment variable FRUITS_BUCKET is not set, and the cloud environment needs it: "
        "export FRUITS_BUCKET=... (see conf/cloud/globals.yml)."
    )


def test_telemetry_is_off_without_asking_or_writing_to_pyproject(project: Path) -> None:
    before = (project / "pyproject.toml").read_bytes()
    result = kedro(project, "run", "--params", "sampling.strategy=bogus", timeout=300,
                   unset=("KEDRO_DISABLE_TELEMETRY", "DO_NOT_TRACK"))
    assert "anonymous usage data" not in result.stdout and "telemetry" not in result.stdout.lower()
    assert (project / "pyproject.toml").read_bytes() == before
