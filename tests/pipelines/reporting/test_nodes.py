"""Reporting: counts that add up, a probe that does not flatter, plots and a report a person can read."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from fruits.datasets.image_tree import ImageTree
from fruits.images import PLACEHOLDER
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.nodes import (
    check_counts,
    count_images_per_class,
    count_reject_reasons,
    evaluate_probe,
    frame_groups,
    group_split,
    nearest_neighbours,
    plot_explained_variance,
    plot_neighbours,
    plot_pca_map,
    plot_rejects,
    plural,
    render_report,
    summarize_run,
)
from fruits.tables import RESULTS, spark_schema
from tests.support.images import decompression_bomb
from tests.support.paths import MINI_SET

LABELS = ("Apple Braeburn", "Kiwi", "Lemon")


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """Three well separated classes, 40 video frames each, in a 6-d PCA space."""
    rng = np.random.default_rng(2)
    rows = [(f"file://{MINI_SET}/Kiwi/r_{frame}_100.jpg" if label == "Kiwi" else f"file:///t/{label}/r_{frame}_100.jpg",
             label, (centre + rng.normal(size=6)).astype(np.float32))
            for label, centre in zip(LABELS, (0.0, 5.0, -5.0), strict=True) for frame in range(40)]
    return pd.DataFrame(rows, columns=["path", "label", "pca_features"])


def test_frames_of_one_video_are_grouped() -> None:
    paths = pd.Series(["x/Kiwi/r_1_100.jpg", "x/Kiwi/r_9_100.jpg", "x/Kiwi/r_10_100.jpg", "x/Kiwi/3_100.jpg",
                       "x/Kiwi/r2_3_100.jpg", "x/Kiwi/IMG.jpg"])
    groups = frame_groups(paths, pd.Series(["Kiwi"] * 6), frames_per_group=10).tolist()
    assert groups[0] == groups[1] != groups[2]
    assert len({groups[3], groups[4], groups[0]}) == 3  # other series
    assert groups[5] == "Kiwi/IMG.jpg"  # no frame number: its own group


def test_the_split_holds_out_whole_groups_of_every_class(sample: pd.DataFrame) -> None:
    held_out = group_split(sample, ProbeParams(test_fraction=0.25, frames_per_group=10))
    groups = frame_groups(sample["path"], sample["label"], 10)
    assert not set(groups[held_out]) & set(groups[~held_out])
    assert sample[held_out]["label"].value_counts().to_dict() == dict.fromkeys(LABELS, 10)


def test_the_probe_separates_separable_classes_and_skips_one_class(sample: pd.DataFrame) -> None:
    metrics = evaluate_probe(sample, ProbeParams(test_fraction=0.25))
    assert metrics["accuracy"] >= 0.9 and metrics["classes"] == 3
    assert (metrics["train_images"], metrics["test_images"]) == (90, 30)
    assert evaluate_probe(sample[sample["label"] == "Kiwi"], ProbeParams()) == {
        "skipped": "needs at least 2 classes, got 1"}
    assert evaluate_probe(sample, ProbeParams(enabled=False))["skipped"].startswith("disabled")


def test_neighbours_come_from_other_videos(sample: pd.DataFrame) -> None:
    rows = nearest_neighbours(sample, ReportingParams(gallery_queries=2, gallery_neighbours=3), ProbeParams())
    assert len(rows) == 2 and all(len(row) == 4 for row in rows)
    for query, *neighbours in rows:
        assert query[2] == 0.0 and all(distance > 0 for _, _, distance in neighbours)
        assert all(label == query[1] for _, label, _ in neighbours)  # separable classes: same-class neighbours


def test_counts_add_up_or_nothing_is_published() -> None:
    report = {"listed": 7, "ignored": 1, "ignored_by_kind": {"os metadata (.DS_Store)": 1}, "listing_rejected": 1,
              "images": 5, "sampled": 4, "skipped": 1, "featurized": 2, "rejected": 1}
    counts = check_counts(report)
    assert (counts["listed"], counts["ignored"], counts["not_sampled"], counts["rejected"]) == (7, 1, 1, 2)
    assert counts["ignored_by_kind"] == {"os metadata (.DS_Store)": 1}
    with pytest.raises(ValueError, match="7 files were listed but 6 are accounted for .* nothing is published"):
        check_counts({**report, "featurized": 1})


def test_plots_summary_and_report(spark, sample: pd.DataFrame, tmp_path) -> None:
    results = spark.createDataFrame([(row.path, row.label, "k", [0.0], [float(x) for x in row.pca_features])
                                     for row in sample.itertuples()], spark_schema(RESULTS))
    rejects = pd.DataFrame({"path": [f"file://{tmp_path}/Kiwi/bad.jpg"], "label": ["Kiwi"],
                            "reject_kind": ["corrupt image"], "reject_detail": ["truncated"]})
    counts = count_images_per_class(results, rejects)
    assert counts.to_dict("records")[1] == {"label": "Kiwi", "featurized": 40, "rejected": 1, "total": 41}
    reasons = count_reject_reasons(rejects)
    assert reasons.to_dict("records") == [{"reject_kind": "corrupt image", "images": 1}]
    curve = pd.DataFrame({"component": range(1, 401), "cumulative": np.linspace(0.3, 1, 400)})
    fit = {"k": 40, "explained_variance": 0.95, "refit": False, "reason": "reused: 3 images added",
           "fitted_on_images": 120}
    figure = plot_explained_variance(curve, fit, 0.95)
    assert figure.axes[0].get_xlim()[1] == 80  # zoomed on k, not the 400 fitted components
    title = plot_pca_map(sample, counts, 5000).axes[0].get_title()
    assert "a per-class sample of 120 of 120 images, 3 classes" in title
    tree = ImageTree(str(MINI_SET))
    assert isinstance(plot_neighbours(sample, tree, ReportingParams(), ProbeParams()), Figure)
    assert isinstance(plot_rejects(rejects, tree), Figure)
    report = {"listed": 121, "ignored": 0, "ignored_by_kind": {}, "listing_rejected": 1, "images": 120,
              "sampled": 120, "skipped": 0, "featurized": 120, "rejected": 0, "new": 120, "changed": 0,
              "deleted": 0, "unchanged": 0, "engine": "tflite", "fingerprint": "abc", "image_size": 224,
              "to_featurize": 120, "images_inferred": 120, "models_built": 2, "full_refresh": False}
    info = {"run_id": "r1", "started_at": "2026-11-29T10:00:00+00:00", "env": "local", "code_version": "fruits 0.1",
            "raw_images": "/data", "sampling": {"strategy": "all"}, "weights": "imagenet"}
    probe = evaluate_probe(sample, ProbeParams())
    timings = {"stage_seconds": {"b": 2, "a": 1}}
    summary = summarize_run(report, fit, probe, counts, reasons, rejects, info, timings)
    assert summary["counts"]["listed"] == 121 and summary["results"] == {"images": 120, "classes": 3, "rejects": 1}
    text = render_report(summary, counts, reasons)
    for expected in ("Run `r1`", "fingerprint `abc`", "**120 featurized**", "reused: 3 images added",
                     "3 classes", "| corrupt image | 1 |", "| b | 2.0 |\n| a | 1.0 |\n| all stages | 3.0 |",
                     "groups of consecutive video frames"):
        assert expected in text


@pytest.fixture
def bomb_tree(tmp_path: Path) -> Path:
    """A class folder holding a decompression bomb beside a real photo."""
    (tmp_path / "Kiwi").mkdir()
    (tmp_path / "Kiwi" / "bomb.png").write_bytes(decompression_bomb())
    shutil.copy(MINI_SET / "Kiwi" / "3_100.jpg", tmp_path / "Kiwi" / "3_100.jpg")
    return tmp_path


def tiles(figure: Figure) -> dict[str, bool]:
    """Each tile's title, and whether it shows the placeholder instead of the image."""
    shown = {}
    for axis in figure.axes:
        if axis.get_images():
            pixels = np.asarray(axis.get_images()[0].get_array())
            placeholder = any(text.get_text() == "cannot be shown" for text in axis.texts)
            assert placeholder == bool((pixels == PLACEHOLDER[0]).all())
            shown[axis.get_title()] = placeholder
    return shown


def test_a_rejected_decompression_bomb_is_drawn_as_a_placeholder(bomb_tree: Path) -> None:
    rejects = pd.DataFrame({"path": [f"file://{bomb_tree}/Kiwi/bomb.png", f"file://{bomb_tree}/Kiwi/3_100.jpg"],
                            "label": ["Kiwi", "Kiwi"], "reject_kind": ["too many pixels", "unreadable"],
                            "reject_detail": ["decompression bomb guard: …", "gone since the listing"]})
    figure = plot_rejects(rejects, ImageTree(str(bomb_tree)))
    assert tiles(figure) == {"bomb.png\ntoo many pixels": True, "3_100.jpg\nunreadable": False}


def test_a_neighbour_that_is_a_decompression_bomb_is_drawn_as_a_placeholder(sample: pd.DataFrame,
                                                                            bomb_tree: Path) -> None:
    with_bomb = sample.copy()
    kiwi = with_bomb.index[with_bomb["label"] == "Kiwi"]
    with_bomb.loc[kiwi, "path"] = f"file://{bomb_tree}/Kiwi/3_100.jpg"
    with_bomb.loc[kiwi[0], "path"] = f"file://{bomb_tree}/Kiwi/bomb.png"  # the query of its row
    settings = ReportingParams(gallery_queries=3, gallery_neighbours=2)
    shown = tiles(plot_neighbours(with_bomb, ImageTree(str(bomb_tree)), settings, ProbeParams()))
    assert shown["query: Kiwi"] and not any(placeholder for title, placeholder in shown.items()
                                            if title.startswith("Kiwi\n"))


def test_plural() -> None:
    assert [plural(1, "class"), plural(2, "class"), plural(1, "image"), plural(3, "time")] == [
        "1 class", "2 classes", "1 image", "3 times"]
