"""Where the results are: the lines that end a run, and `fruits report` after any run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.project import copy_project
from fruits.latest import REPORT, SUMMARY, closing_lines, report_location
from fruits.publishing import DataRoot, Publication


def published_root(data: Path, run_id: str, report_run: str) -> DataRoot:
    """A data root whose pointer names run ``run_id``, with the report and summary of run ``report_run``."""
    root = DataRoot(str(data))
    for path, content in ((REPORT, "# Fruits! featurization report\n"),
                          (SUMMARY, json.dumps({"results": {"images": 90, "classes": 7, "rejects": 3}}))):
        root.write_text_atomically(f"runs/{report_run}/{path}", content)
    datasets = {REPORT: f"runs/{report_run}/{REPORT}", SUMMARY: f"runs/{report_run}/{SUMMARY}",
                "06_models/pca_fit.json": f"runs/{run_id}/06_models/pca_fit.json"}
    root.write_text_atomically("current.json", Publication(run_id=run_id, datasets=datasets).to_json())
    return root


def test_a_run_ends_with_its_counts_and_where_the_report_and_tables_are(tmp_path: Path) -> None:
    lines = closing_lines(published_root(tmp_path, "r2", "r2"))
    assert lines[0] == f"Published run r2 ({tmp_path}/current.json names it)."
    assert lines[1] == "Results: 90 images of 7 classes, 3 rejects."
    assert lines[2] == f"Report: {tmp_path}/runs/r2/{REPORT}"
    assert f"results {tmp_path}/07_model_output/results" in lines[3] and "`fruits report`" in lines[3]


def test_after_a_partial_run_the_report_of_an_earlier_run_is_named(tmp_path: Path) -> None:
    """`kedro run --pipelines pca` writes no report: the published one is an earlier run's, and it is found."""
    root = published_root(tmp_path, "r3", "r2")
    assert report_location(root) == f"{tmp_path}/runs/r2/{REPORT}"
    assert closing_lines(root)[2] == f"Report: {tmp_path}/runs/r2/{REPORT} (written by run r2: this run wrote none)"
    assert report_location(DataRoot(str(tmp_path / "empty"))) is None


@pytest.mark.integration  # a `fruits` process
def test_fruits_report_prints_the_published_report(tmp_path: Path) -> None:
    project = copy_project(tmp_path, images=False)
    command = [sys.executable, "-m", "fruits", "report"]
    before = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert before.returncode == 1 and before.stderr.strip() == (
        f"Error: No report has been published under {project}/data yet: run `kedro run` first.")
    published_root(project / "data", "r3", "r2")
    after = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, check=True)
    assert after.stdout == f"{project}/data/runs/r2/{REPORT}\n"
    assert Path(after.stdout.strip()).read_text().startswith("# Fruits!")


def test_progress_stops_before_the_run_is_published_and_says_where_its_results_are() -> None:
    """No progress line of the last node (labelled with its name) between the closing lines: the monitor stops
    before publication, vacuum and the summary."""
    from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks  # noqa: PLC0415

    from fruits import settings  # noqa: PLC0415
    from fruits.hooks import ProgressHooks, RunHooks  # noqa: PLC0415

    manager = _create_hook_manager()
    _register_hooks(manager, settings.HOOKS)
    called = [type(hook.plugin) for hook in reversed(manager.hook.after_pipeline_run.get_hookimpls())]
    assert called.index(ProgressHooks) < called.index(RunHooks)
