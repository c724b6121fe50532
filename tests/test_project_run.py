"""End to end: `kedro run` in copies of the project, on real images and weights, as a user would run it.

One scenario runs the pipeline five times on a tree of odd names (two executor JVMs the first time, like a real
cluster): the first run, then 5 images added, 3 deleted, nothing changed, and new weights. Another kills a run
during featurization.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import nbformat
import numpy as np
import pandas as pd
import pytest
from nbclient import NotebookClient
from PIL import Image

from devkit.paths import MINI_SET, PROJECT_ROOT
from devkit.project import copy_project, kedro, published, published_file, published_json, published_table
from tests.support.browser import rendered_page
from tests.support.images import decompression_bomb

pytestmark = pytest.mark.slow

RAW = Path("data/01_raw/fruits-360-mini/Test")
ODD_NAMES = ["12:30:00.jpg", "_x.jpg", "a%20b #1?.jpg", "été 🍓.jpg", "x" * 196 + ".jpg", ".hidden.jpg",
             "apple[1].jpg", "b*.jpg"]
UPRIGHT = "Banana/r_56_100.jpg"
SUMMARY = "08_reporting/run_summary.json"
PLANS = ("07_model_output/rejects_plan.json", "08_reporting/report_plan.json")
SAMPLE = "08_reporting/results_sample.parquet"


def sideways(upright: bytes) -> bytes:
    """The image as a phone stores it: pixels turned a quarter, EXIF orientation 6 to turn them back."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    turned = Image.open(io.BytesIO(upright)).transpose(Image.Transpose.ROTATE_90)
    turned.save(buffer, "JPEG", quality=100, subsampling=0, exif=exif)  # as little loss as a re-encoding allows
    return buffer.getvalue()


def odd_tree(raw: Path) -> dict[str, str]:
    """Files added to the mini set, with what must become of each: a label, a reject kind, or ignored."""
    jpeg = (raw / "Kiwi" / "3_100.jpg").read_bytes()
    for name in ODD_NAMES:
        (raw / "Kiwi" / name).write_bytes(jpeg)
    (raw / "Apple Granny Smith" / "deeper").mkdir()
    shutil.copy(raw / "Apple Granny Smith" / "3_100.jpg", raw / "Apple Granny Smith" / "deeper" / "nested.jpg")
    (raw / "Banana" / "rotated.jpg").write_bytes(sideways((raw / UPRIGHT).read_bytes()))
    (raw / "Kiwi" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (raw / "Kiwi" / "._x.jpg").write_bytes(b"\0\5\26\7AppleDouble")
    (raw / "root.jpg").write_bytes(jpeg)
    (raw / "Kiwi" / "truncated.jpg").write_bytes(jpeg[:700])
    (raw / "Lemon" / "empty.PNG").write_bytes(b"")
    (raw / "Kiwi" / "bomb.png").write_bytes(decompression_bomb())
    return {
        **{f"Kiwi/{name}": "Kiwi" for name in ODD_NAMES},
        "Apple Granny Smith/deeper/nested.jpg": "Apple Granny Smith",
        "Banana/rotated.jpg": "Banana",
        "Kiwi/.DS_Store": "ignored",
        "Kiwi/._x.jpg": "ignored",
        "root.jpg": "not in a class folder",
        "Kiwi/truncated.jpg": "corrupt image",
        "Lemon/empty.PNG": "empty file",
        "Kiwi/bomb.png": "too many pixels",
    }


def other_weights(weights: Path, target: Path) -> Path:
    """The same weights in a file with other bytes (an attribute added): a new fingerprint, the same network."""
    shutil.copy(weights, target)
    with h5py.File(target, "a") as file:
        file.attrs["fruits_test"] = "another file of the same weights"
    return target


@dataclass
class Run:
    files: set[str]  # the raw tree when the run started, relative paths
    output: str
    summary: dict
    results: pd.DataFrame
    rejects: pd.DataFrame
    plans: dict[str, dict]  # the rejects' and the report's plans (what they were made from, whether kept)
    report_sample: pd.DataFrame  # the published report's sample of the results


def run(project: Path, weights: Path, *params: str, **env: str) -> Run:
    files = {path.relative_to(project / RAW).as_posix() for path in (project / RAW).rglob("*") if path.is_file()}
    result = kedro(project, "run", "--params", ",".join([f"weights={weights}", *params]), **env)
    assert result.returncode == 0, result.stdout[-6000:]
    data = project / "data"
    rejects = published_table(data, "rejects")
    return Run(files, result.stdout, published_json(data, SUMMARY), published_table(data, "results"), rejects,
               {plan: published_json(data, plan) for plan in PLANS}, pd.read_parquet(published_file(data, SAMPLE)))


@dataclass
class Scenario:
    project: Path
    expected: dict[str, str]
    added: list[str]
    deleted: list[str]
    runs: list[Run]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, real_weights: Path) -> Scenario:
    project = copy_project(tmp_path_factory.mktemp("project"))
    raw = project / RAW
    expected = odd_tree(raw)
    # Progress every 0.2 s: the featurization's 4 tasks end in two waves, less than a second apart on a fast machine,
    # and a line is only logged between them (0 < done < total).
    runs = [run(project, real_weights, FRUITS_SPARK_MASTER="local-cluster[2,1,1024]", FRUITS_PROGRESS_SECONDS="0.2")]
    added = [f"Kiwi/added {index}.jpg" for index in range(5)]
    for index, name in enumerate(added):
        shutil.copy(sorted(MINI_SET.glob("*/*.jpg"))[index * 9], raw / name)
    runs.append(run(project, real_weights))
    deleted = ["Orange/3_100.jpg", "Lemon/r_36_100.jpg", "Kiwi/added 0.jpg"]
    for name in deleted:
        (raw / name).unlink()
    runs.append(run(project, real_weights))
    runs.append(run(project, real_weights))
    weights = other_weights(real_weights, tmp_path_factory.mktemp("weights") / "same.h5")
    runs.append(run(project, weights, "publishing.keep_runs=3"))
    return Scenario(project, expected, added, deleted, runs)


def relative(paths: pd.Series, project: Path) -> list[str]:
    """Result paths (URIs) relative to the raw tree."""
    return [path.removeprefix(f"file://{project / RAW}/") for path in paths]


def test_every_file_ends_in_results_rejects_or_the_ignored_counts(scenario: Scenario) -> None:
    first = scenario.runs[0]
    results = dict(zip(relative(first.results["path"], scenario.project), first.results["label"], strict=True))
    rejects = dict(zip(relative(first.rejects["path"], scenario.project), first.rejects["reject_kind"], strict=True))
    listed = first.files
    counts = first.summary["counts"]
    assert len(listed) == counts["listed"] == 80 + len(scenario.expected)
    assert counts["ignored_by_kind"] == {"os metadata (.DS_Store)": 1, "os metadata (AppleDouble ._ file)": 1}
    assert set(results) | set(rejects) == listed - {"Kiwi/.DS_Store", "Kiwi/._x.jpg"}
    assert not set(results) & set(rejects)
    for name, fate in scenario.expected.items():
        if fate == "ignored":
            assert name not in results and name not in rejects
        elif name in rejects:
            assert rejects[name] == fate, (name, rejects[name])
        else:
            assert results[name] == fate, name
    assert counts["listed"] == counts["ignored"] + counts["not_sampled"] + counts["skipped"] + \
        counts["featurized"] + counts["rejected"]
    assert first.summary["featurization"]["images_inferred"] == counts["featurized"] == len(results) == 90


def test_an_exif_rotated_photo_has_the_features_of_the_upright_one(scenario: Scenario) -> None:
    store = published_table(scenario.project / "data", "feature_store")
    featurized = store[store["reject_kind"].isna()][["path", "change_key", "fingerprint", "features"]]
    results = scenario.runs[0].results.merge(featurized, on=["path", "change_key", "fingerprint"])  # as README does
    vectors = dict(zip(relative(results["path"], scenario.project), results["features"], strict=True))
    rotated, upright = np.asarray(vectors["Banana/rotated.jpg"]), np.asarray(vectors[UPRIGHT])
    assert np.dot(rotated, upright) / (np.linalg.norm(rotated) * np.linalg.norm(upright)) >= 0.99


def test_the_first_run_used_executor_jvms_and_wrote_its_report(scenario: Scenario) -> None:
    first = scenario.runs[0]
    assert "local-cluster[2,1,1024]" in first.output
    data = scenario.project / "data"
    report = published_file(data, "08_reporting/report.md").read_text()
    assert "Held-out accuracy" in report and "![nearest neighbours](neighbours.png)" in report
    for plot in ("explained_variance.png", "pca_map.png", "neighbours.png", "rejects.png"):
        assert published_file(data, f"08_reporting/{plot}").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first.summary["probe"]["accuracy"] >= 0.9
    assert list(first.results.columns) == ["path", "label", "change_key", "fingerprint", "pca_features", "pca_run_id"]
    assert set(first.results["fingerprint"]) == {first.summary["model"]["fingerprint"]}
    assert {len(vector) for vector in first.results["pca_features"]} == {first.summary["pca"]["k"]}


def test_the_log_shows_progress_without_noise(scenario: Scenario) -> None:
    output = scenario.runs[0].output
    assert "Converted MobileNetV2 to TFLite" in output  # the first run converts the model...
    assert "TensorSpec" not in output  # ...without the converter's line per tensor
    assert "[Stage " not in output  # Spark's console bar is off: progress is logged instead
    assert re.search(r"featurize_images: [\d,]+ / 93 images \(\d+%\), \d+ images/s", output)
    run_line = next(line for line in output.splitlines() if " writes under " in line)
    assert f"{scenario.project}/data/runs/" in run_line  # a long path is not split across lines


def test_five_added_images_cost_five_inferences(scenario: Scenario) -> None:
    second = scenario.runs[1]
    assert second.summary["featurization"]["images_inferred"] == 5
    assert second.summary["counts"]["new"] == 5 and second.summary["counts"]["skipped"] == 90 + 3
    assert set(relative(second.results["path"], scenario.project)) == \
        set(relative(scenario.runs[0].results["path"], scenario.project)) | set(scenario.added)
    assert not second.summary["pca"]["refit"]  # 5 of 90: below pca.refit_growth
    assert second.summary["pca"]["changes_since_fit"] == {"added": 5, "changed": 0, "left": 0}
    # not every image compared with the fit's: the published count moved
    assert second.summary["pca"]["counted_by"] == "the published count, moved by the 5 images changed since"
    # the report's sample moved by the results' changes: the mini set's classes are below its quota, held whole
    assert "The report's sample moved by the results' changes since version" in second.output
    assert sorted(second.report_sample["path"]) == sorted(second.results["path"])


def test_three_deleted_images_leave_the_published_results(scenario: Scenario) -> None:
    before, after = scenario.runs[1], scenario.runs[2]
    gone = set(relative(before.results["path"], scenario.project)) - set(relative(after.results["path"],
                                                                                    scenario.project))
    assert gone == set(scenario.deleted)
    assert len(after.results) == len(before.results) - 3
    assert (after.summary["counts"]["gone"], after.summary["counts"]["left_sample"]) == (3, 0)
    assert after.summary["featurization"]["images_inferred"] == 0
    # one of the deleted images came after the fit: one added image fewer, and two of the fit's left
    assert after.summary["pca"]["changes_since_fit"] == {"added": 4, "changed": 0, "left": 2}
    assert after.summary["pca"]["counted_by"] == "the published count, moved by the 3 images changed since"
    assert "The report's sample moved by the results' changes since version" in after.output
    assert sorted(after.report_sample["path"]) == sorted(after.results["path"])  # the deleted ones left it


def test_an_unchanged_rerun_infers_nothing(scenario: Scenario) -> None:
    rerun = scenario.runs[3]
    assert rerun.summary["featurization"]["images_inferred"] == 0
    assert rerun.summary["counts"]["unchanged"] == rerun.summary["counts"]["skipped"]
    pd.testing.assert_frame_equal(rerun.results.sort_values("path", ignore_index=True),
                                  scenario.runs[2].results.sort_values("path", ignore_index=True))


def test_an_unchanged_rerun_keeps_the_rejects_and_report_parts_and_links_them(scenario: Scenario) -> None:
    before, rerun = scenario.runs[2], scenario.runs[3]
    for plan in PLANS:
        assert not any(run.plans[plan]["reused"] for run in scenario.runs[:3] + scenario.runs[4:]), plan
        assert rerun.plans[plan]["reused"] and rerun.plans[plan]["made_by"] == before.summary["run"]["run_id"]
    pd.testing.assert_frame_equal(rerun.rejects, before.rejects)
    assert "report's counts, probe and figures are kept" in rerun.output
    assert rerun.summary["probe"] == before.summary["probe"] and rerun.summary["results"] == before.summary["results"]
    folder = scenario.project / "data" / "runs" / rerun.summary["run"]["run_id"] / "08_reporting"
    assert not list(folder.glob("*.png"))  # nothing drawn again...
    links = re.findall(r"\]\(([^)]+\.(?:png|csv))\)", (folder / "report.md").read_text())
    assert len(links) == 5 and all(link.startswith("../../") for link in links)
    assert all((folder / link).is_file() for link in links)  # ...the page shows the kept ones


def test_new_weights_refeaturize_everything_and_refit(scenario: Scenario) -> None:
    last, before = scenario.runs[4], scenario.runs[3]
    assert last.summary["model"]["fingerprint"] != before.summary["model"]["fingerprint"]
    assert last.summary["featurization"]["images_inferred"] == len(before.results) == len(last.results)
    assert last.summary["pca"]["refit"] and "fingerprint changed" in last.summary["pca"]["reason"]
    assert "The report's sample is drawn from every result" in last.output  # every result projected again


def test_runs_beyond_the_last_kept_keep_only_the_files_still_in_use(scenario: Scenario) -> None:
    data = scenario.project / "data"
    pointer = published(data)
    runs = sorted((data / "runs").iterdir())
    assert runs[-1].name == pointer["run_id"]
    kept_states = [json.loads((run / "_run.json").read_text()) for run in runs[-3:]]  # publishing.keep_runs=3
    in_use = {location for state in kept_states for location in state["datasets"].values()}
    for old in runs[:-3]:
        files = {path.relative_to(data).as_posix() for path in old.rglob("*") if path.is_file()}
        assert files, old.name  # run 0 holds the PCA model the kept runs still use (tables live outside runs)
        assert all(any(file == used or file.startswith(used + "/") for used in in_use) for file in files), old.name
    assert all((run / "08_reporting").is_dir() for run in runs[-3:])


def spark_local_dirs(project: Path) -> Path:
    """Where a run's JVM keeps its scratch (``SPARK_LOCAL_DIRS``), in the test's project: a killed JVM leaves it
    behind."""
    return project / "spark-local"


def signal_during_featurization(project: Path, params: str, signum: int) -> tuple[subprocess.Popen, list[str]]:
    """Start `kedro run --params PARAMS` and send ``signum`` to its whole process group (JVM and Python workers
    included) once its Spark job featurizes; returns the process and the lines it printed until then."""
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200",
                   "SPARK_LOCAL_DIRS": str(spark_local_dirs(project))}
    process = subprocess.Popen([sys.executable, "-m", "kedro", "run", "--params", params], cwd=project,
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "Featurizing 80 images" in line:
            time.sleep(2)  # inside the Spark job
            os.killpg(process.pid, signum)
            break
    return process, seen


def test_a_killed_run_leaves_the_published_run_current_and_complete(tmp_path: Path, real_weights: Path) -> None:
    project = copy_project(tmp_path)
    data = project / "data"
    first = run(project, real_weights)
    published_before = published(data)
    process, seen = signal_during_featurization(
        project, f"weights={real_weights},featurization.full_refresh=true", signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    assert published(data) == published_before
    assert len(list((data / "runs").iterdir())) == 2  # the killed run's folder exists, but nothing reads it
    pd.testing.assert_frame_equal(published_table(data, "results"), first.results)
    third = run(project, real_weights)
    assert third.summary["featurization"]["images_inferred"] == 0 and len(third.results) == 80


def test_ctrl_c_during_featurization_ends_the_run_in_one_line(tmp_path: Path, real_weights: Path) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it."""
    project = copy_project(tmp_path)
    process, seen = signal_during_featurization(project, f"weights={real_weights}", signal.SIGINT)
    after = process.stdout.read()
    process.wait(timeout=60)
    assert process.returncode == 128 + signal.SIGINT, "".join(seen)[-3000:] + after
    assert after.strip().splitlines()[-1] == (
        "Interrupted: nothing was published (no run has been published yet); run the same command again to go on, "
        "what is already in the feature store is not featurized again.")
    assert not list(spark_local_dirs(project).iterdir())  # the JVM's scratch is deleted with it
    for noise in ("Traceback", "Exception", "Aborted", "py4j", "ERROR"):
        assert noise not in after, after
    assert not (project / "data" / "current.json").exists()


def test_missing_weights_stop_with_one_clear_sentence(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    result = kedro(project, "run", "--params", f"weights={tmp_path / 'nowhere.h5'}")
    output = " ".join(result.stdout.split())
    assert result.returncode != 0
    assert "Error: Could not get MobileNetV2 ImageNet weights" in output
    assert "Give a local weights file with `kedro run --params weights=" in output
    assert "Traceback" not in output
    assert "Spark" not in output  # stopped before starting a JVM


def test_every_pipeline_runs_alone_and_a_failed_run_resumes(tmp_path: Path, real_weights: Path) -> None:
    project = copy_project(tmp_path)
    data, raw = project / "data", project / RAW
    run(project, real_weights)
    shutil.copy(raw / "Kiwi" / "3_100.jpg", raw / "Lemon" / "new.jpg")
    for name in ("ingestion", "featurization", "pca", "output", "reporting"):
        alone = kedro(project, "run", "--pipelines", name, "--params", f"weights={real_weights}")
        assert alone.returncode == 0, f"--pipelines {name}:\n{alone.stdout[-3000:]}"
    # Ingestion published the new sample before the featurization ran: the results still catch up.
    assert "Lemon/new.jpg" in relative(published_table(data, "results")["path"], project)
    failing = kedro(project, "run", "--params", f"weights={real_weights},pca.refit=true,pca.n_components=5000")
    assert failing.returncode != 0
    assert "pca.n_components must be between 1 and 1280, got 5000" in failing.stdout
    suggested = re.search(r'--from-nodes "([^"]+)"', failing.stdout)  # Kedro's own resume hint
    # the node that finds what changed since the count, whose output fit_pca reads from memory
    assert suggested and suggested.group(1).split(",") == ["find_changed_images"]
    interrupted = sorted((data / "runs").iterdir())[-1].name
    assert published(data)["run_id"] != interrupted
    resumed = kedro(project, "run", "--from-nodes", suggested.group(1), "--params",
                    f"weights={real_weights},pca.refit=true")
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert f"Resuming run {interrupted}" in resumed.stdout
    assert published(data)["run_id"] == interrupted
    summary = published_json(data, SUMMARY)
    assert summary["pca"]["refit"] and summary["counts"]["listed"] == 81


def test_the_notebook_runs_on_the_published_results(scenario: Scenario) -> None:
    notebook = shutil.copytree(PROJECT_ROOT / "notebooks", scenario.project / "notebooks", dirs_exist_ok=True)
    document = nbformat.read(notebook / "fruits.ipynb", as_version=4)
    NotebookClient(document, timeout=600, resources={"metadata": {"path": str(notebook)}}).execute()
    printed = "".join(output.get("text", "") for cell in document.cells for output in cell.get("outputs", []))
    assert f"Published run {published(scenario.project / 'data')['run_id']}" in printed


def test_viz_build_shows_the_pipeline_with_layers_and_previews(scenario: Scenario) -> None:
    project = scenario.project
    build = kedro(project, "viz", "build", "--include-previews")
    assert build.returncode == 0, build.stdout[-3000:]
    graph = (project / "build" / "api" / "main").read_text()
    previews = {}
    for node in json.loads(graph)["nodes"]:
        details = project / "build" / "api" / "nodes" / node["id"]
        if node["type"] == "data" and details.is_file():
            previews[node["name"]] = json.loads(details.read_text())
    assert previews["raw_images"]["preview_type"] == "ImagePreview" and previews["raw_images"]["preview"]
    assert previews["results"]["preview_type"] == "TablePreview"
    assert "pca_features" in previews["results"]["preview"]["columns"]
    assert previews["rejects"]["preview"]["data"]
    json.dumps(previews)  # every preview serialised, vectors included (results_sample's pca_features)
    assert (project / "build" / "index.html").is_file(), sorted(path.name for path in (project / "build").iterdir())
    for layer in ('"raw"', '"intermediate"', '"feature"', '"models"', '"model_output"', '"reporting"'):
        assert layer in graph
    for node in ("list_images", "featurize_images", "fit_pca", "update_results", "render_report"):
        assert f'"{node}"' in graph
    page = rendered_page(project / "build")  # as a person opens it: the flowchart drawn, its layers named
    drawn = set(re.findall(r'class="pipeline-node__text"[^>]*>([^<]*)<', page))
    assert {"raw_images", "list_images", "featurize_images", "fit_pca", "results", "render_report"} <= drawn, drawn
    assert re.findall(r'class="pipeline-layer-name"[^>]*>([^<]*)<', page) == [
        "raw", "intermediate", "feature", "models", "model_output", "reporting"]
