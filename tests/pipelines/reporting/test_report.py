"""Counts that add up, plots, a summary and a report a person can read."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from devkit.paths import MINI_SET
from fruits.datasets.image_tree import ImageTree
from fruits.datasets.run import UNCHANGED
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.output.nodes import account_for_files
from fruits.pipelines.reporting.counts import count_images_per_class, count_reject_reasons, list_rejects
from fruits.pipelines.reporting.markdown import agrees, plural, render_report
from fruits.pipelines.reporting.plots import plot_explained_variance, plot_pca_map
from fruits.pipelines.reporting.probe import evaluate_probe
from fruits.pipelines.reporting.summary import summarize_run
from fruits.pipelines.reporting.thumbnails import plot_neighbours, plot_rejects
from fruits.tables import REJECTS, RESULTS, spark_schema


def test_plots_summary_and_report(spark, sample: pd.DataFrame, tmp_path) -> None:
    results = spark.createDataFrame([(row.path, row.label, "k", "f", [float(x) for x in row.pca_features], "r1")
                                     for row in sample.itertuples()], spark_schema(RESULTS))
    rejects = spark.createDataFrame([(f"file://{tmp_path}/Kiwi/bad.jpg", "Kiwi", "corrupt image", "truncated")],
                                    spark_schema(REJECTS))
    info = {"run_id": "r1", "started_at": "2026-11-29T10:00:00+00:00", "env": "local", "code_version": "fruits 0.1",
            "raw_images": "/data", "sampling": {"strategy": "all"}, "weights": "imagenet"}
    tables = {"results": 3, "rejects": 1}
    counts, plan = count_images_per_class(results, rejects, tables, None, ReportingParams(), ProbeParams(), info)
    assert counts.to_dict("records")[1] == {"label": "Kiwi", "featurized": 40, "rejected": 1, "total": 41}
    assert (plan["reused"], plan["made_by"]) == (False, "r1")
    reasons = count_reject_reasons(rejects)
    assert reasons.to_dict("records") == [{"reject_kind": "corrupt image", "images": 1}]
    curve = pd.DataFrame({"component": range(1, 401), "cumulative": np.linspace(0.3, 1, 400)})
    fit = {"k": 40, "explained_variance": 0.95, "refit": False, "reason": "reused: 3 images added",
           "fitted_on_images": 120}
    figure = plot_explained_variance(curve, fit, 0.95)
    assert figure.axes[0].get_xlim()[1] == 80  # zoomed on k, not the 400 fitted components
    title = plot_pca_map(sample, counts, 5000).axes[0].get_title()
    assert "a per-class sample of 120 of 120 images, 3 classes" in title
    title = plot_pca_map(sample, counts, 30).axes[0].get_title()  # the points shared among the classes
    assert "a per-class sample of 30 of 120 images, 3 classes" in title
    tree = ImageTree(str(MINI_SET))
    assert isinstance(plot_neighbours(sample, tree, ReportingParams(), ProbeParams()), Figure)
    listed = list_rejects(rejects, 10)
    assert listed["reject_detail"].tolist() == ["truncated"]
    assert isinstance(plot_rejects(listed, reasons, tree), Figure)
    report = {"listed": 121, "ignored": 0, "ignored_by_kind": {}, "listing_rejected": 1, "images": 120,
              "sampled": 120, "skipped": 0, "featurized": 120, "rejected": 0, "new": 120, "changed": 0,
              "left_sample": 0, "gone": 0, "unchanged": 0, "engine": "tflite", "fingerprint": "abc",
              "image_size": 224, "to_featurize": 120, "images_inferred": 120, "full_refresh": False,
              "cores": 2}
    probe = evaluate_probe(sample, ProbeParams())
    timings = {"stage_seconds": {"b": 2.0, "a": 1.0}}
    accounting = account_for_files(report, report, info)
    summary = summarize_run(accounting, report, fit, probe, counts, reasons, info, timings)
    assert summary["counts"]["listed"] == 121 and summary["results"] == {"images": 120, "classes": 3, "rejects": 1}
    rerun = {**info, "run_id": "r2"}  # the next run finds the tables as this one left them: nothing is counted
    assert count_images_per_class(None, None, tables, plan, ReportingParams(), ProbeParams(), rerun) == \
        (UNCHANGED, {**plan, "reused": True})
    timings["stage_seconds"]["summarize_run"] = 0.5  # what the hook records once the summary is saved
    text = render_report(summary, counts, reasons, timings, plan)
    for expected in ("Run `r1`", "fingerprint `abc`", "**120 featurized**", "reused: 3 images added",
                     "3 classes", "| corrupt image | 1 |", "1 reject is listed", "fitted on 120 images",
                     "| b | 2.0 |\n| a | 1.0 |\n| summarize_run | 0.5 |\n| render_report (this page) | — |\n"
                     "| all stages before this page | 3.5 |", "groups of consecutive video frames",
                     "nearest images in PCA space from other videos", "![PCA map](pca_map.png)",
                     "[`rejects.csv`](rejects.csv)"):
        assert expected in text
    assert text.endswith("|\n") and not text.endswith("\n\n")
    kept = render_report({**summary, "run": rerun}, counts, reasons, timings, plan)  # its figures are in r1's folder
    for expected in ("as run `r1` left them", "![PCA map](../../r1/08_reporting/pca_map.png)",
                     "[`rejects.csv`](../../r1/08_reporting/rejects.csv)"):
        assert expected in kept


def test_plural() -> None:
    assert [plural(1, "class"), plural(2, "class"), plural(1, "image"), plural(3, "time")] == [
        "1 class", "2 classes", "1 image", "3 times"]
    assert [agrees(1, "is", "are"), agrees(0, "is", "are"), agrees(2, "keeps", "keep")] == ["is", "are", "keep"]


def test_a_report_on_ones_own_photos_agrees_in_number_and_speaks_of_no_video() -> None:
    photos = pd.DataFrame({"path": [f"/p/{label}/IMG_{index}.JPG" for label in "abc" for index in range(2)],
                           "label": [label for label in "abc" for _ in range(2)],
                           "pca_features": [np.ones(3, np.float32) * index for index in range(6)]})
    probe = evaluate_probe(photos, ProbeParams())
    counts = {"listed": 1, "ignored": 0, "ignored_by_kind": {}, "not_sampled": 0, "skipped": 0, "featurized": 1,
              "rejected": 0, "new": 1, "changed": 0, "left_sample": 3, "gone": 2, "unchanged": 0}
    summary = {"run": {"run_id": "r", "started_at": "t", "env": "local", "code_version": "c", "raw_images": "/p",
                       "sampling": "all", "weights": "w"},
               "counts": counts, "results": {"images": 1, "classes": 1, "rejects": 1},
               "model": {"engine": "tflite", "image_size": 224, "fingerprint": "f"},
               "featurization": {"images_inferred": 1},
               "pca": {"k": 1, "explained_variance": 1.0, "fitted_on_images": 1, "refit": True, "reason": "first"},
               "probe": probe}
    text = render_report(summary, pd.DataFrame({"label": ["a"]}), pd.DataFrame(), {"stage_seconds": {}},
                         {"made_by": "r"})
    for expected in ("1 file listed", "ran on 1 image.", "2 gone from the tree, 3 left the sample (still in the tree",
                     "**1 image** of 1 class",
                     "1 reject is listed", "k = **1** component keeps", "fitted on 1 image)",
                     "No probe: too few images: each class needs 2 training images besides the held-out ones, "
                     "and a has 1.", "nearest images in PCA space (red"):
        assert expected in text
    assert "video" not in text and "Fruits-360" not in text
