"""End to end: `kedro run` in a copy of the project, on real images, with two executor JVMs like a real cluster."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from tests.support.project import copy_project, kedro

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, real_weights):
    project = copy_project(tmp_path_factory.mktemp("project"))
    raw = project / "data" / "01_raw" / "fruits-360-mini" / "Test"
    (raw / "Kiwi" / "truncated.jpg").write_bytes((raw / "Kiwi" / "3_100.jpg").read_bytes()[:700])
    (raw / "Lemon" / "empty.PNG").write_bytes(b"")
    run = kedro(project, "run", "--params", f"weights={real_weights}",
                FRUITS_SPARK_MASTER="local-cluster[2,1,1024]")
    assert run.returncode == 0, run.stdout[-4000:]
    return project, run


def test_results_parquet_has_the_documented_schema(finished_run):
    project, _ = finished_run
    summary = json.loads((project / "data/08_reporting/run_summary.json").read_text())
    results = pq.read_table(project / "data/07_model_output/results.parquet").to_pandas()
    assert list(results.columns) == ["path", "label", "features", "pca_features"]
    assert len(results) == 80
    assert {len(v) for v in results["features"]} == {1280}
    assert {len(v) for v in results["pca_features"]} == {summary["pca_k"]}
    assert 2 <= summary["pca_k"] <= 80
    assert set(results["label"]) >= {"Apple Granny Smith", "Banana", "Strawberry"}


def test_every_input_is_featurized_or_rejected_once(finished_run):
    project, _ = finished_run
    summary = json.loads((project / "data/08_reporting/run_summary.json").read_text())
    rejects = pq.read_table(project / "data/07_model_output/rejects.parquet").to_pandas()
    assert sorted(p.rsplit("/", 1)[-1] for p in rejects["path"]) == ["empty.PNG", "truncated.jpg"]
    assert set(rejects["reason"]) == {"empty file"} | {r for r in rejects["reason"] if r.startswith("corrupt")}
    assert summary["input_images"] == 82 == summary["featurized_images"] + summary["rejected_images"]
    # The network ran once per image (an accumulator read after PCA), not again for each PCA pass.
    assert summary["images_inferred"] == summary["featurized_images"] == 80
    assert 1 <= summary["models_built"] <= 4  # once per Python worker


def test_features_separate_the_ten_classes(finished_run):
    project, _ = finished_run
    summary = json.loads((project / "data/08_reporting/run_summary.json").read_text())
    assert summary["classes"] == 10
    assert summary["classifier"]["accuracy"] >= 0.9
    assert summary["classifier"]["test_images"] == 20


def test_model_and_report_files_are_written(finished_run):
    project, run = finished_run
    reporting = project / "data/08_reporting"
    assert (project / "data/06_models/pca_model/metadata").is_dir()
    assert (project / "data/06_models/pca_model/stages").is_dir()
    for png in ("explained_variance.png", "pca_map.png"):
        assert (reporting / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (reporting / "report.md").read_text()
    assert "Held-out accuracy" in report and "![PCA map](pca_map.png)" in report
    assert "| featurize_images |" in report
    assert (reporting / "images_per_class.csv").read_text().count("\n") == 11
    assert "local-cluster[2,1,1024]" in run.stdout


def test_missing_weights_stop_with_one_clear_sentence(tmp_path):
    project = copy_project(tmp_path)
    run = kedro(project, "run", "--params", f"weights={tmp_path / 'nowhere.h5'}")
    output = " ".join(run.stdout.split())
    assert run.returncode != 0
    assert "Error: Could not get MobileNetV2 ImageNet weights" in output
    assert "Give a local weights file with `kedro run --params weights=" in output
    assert "Traceback" not in output
    assert "Spark" not in output  # stopped before starting a JVM


def test_viz_build_shows_the_pipeline_with_layers(tmp_path):
    project = copy_project(tmp_path)
    build = kedro(project, "viz", "build")
    assert build.returncode == 0, build.stdout[-3000:]
    graph = json.loads((project / "build" / "api" / "main").read_text())
    assert graph["layers"] == ["raw", "intermediate", "primary", "feature", "models", "model_output", "reporting"]
    names = {node["name"] for node in graph["nodes"]}
    assert {"stratified_sample", "featurize_images", "fit_pca", "project_features", "render_report"} <= names
