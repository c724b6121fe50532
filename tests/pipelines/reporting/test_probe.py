"""The probe does not flatter: whole frame groups are held out; neighbours come from other videos."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.probe import (
    evaluate_probe,
    frame_groups,
    group_split,
    nearest_neighbours,
    video_frames,
)


def photos(classes: int, per_class: int, scale: float) -> pd.DataFrame:
    """One's own photos (names that are no video frames), random features."""
    rng = np.random.default_rng(0)
    return pd.DataFrame([(f"/p/c{label}/IMG_{1000 + index}.JPG", f"c{label}",
                          (scale * rng.normal(size=8)).astype(np.float32))
                         for label in range(classes) for index in range(per_class)],
                        columns=["path", "label", "pca_features"])


def test_frames_of_one_video_are_grouped() -> None:
    paths = pd.Series(["x/Kiwi/r_1_100.jpg", "x/Kiwi/r_9_100.jpg", "x/Kiwi/r_10_100.jpg", "x/Kiwi/3_100.jpg",
                       "x/Kiwi/r2_3_100.jpg", "x/Kiwi/IMG.jpg", "x/Kiwi/IMG_1234.JPG", "x/Kiwi/IMG_1235.JPG"])
    groups = frame_groups(paths, pd.Series(["Kiwi"] * 8), frames_per_group=10).tolist()
    assert groups[0] == groups[1] != groups[2]
    assert len({groups[3], groups[4], groups[0]}) == 3  # other series
    assert groups[5:] == ["Kiwi/IMG.jpg", "Kiwi/IMG_1234.JPG", "Kiwi/IMG_1235.JPG"]  # not Fruits-360: one each


def test_only_fruits_360_names_are_video_frames() -> None:
    assert video_frames(pd.Series(["/t/Kiwi/r_1_100.jpg", "/t/Kiwi/3_100.jpg", "/t/Kiwi/IMG_1.jpg"]))
    assert not video_frames(pd.Series(["/p/Kiwi/IMG_1234.JPG", "/p/Kiwi/20240101_120000.jpg", "/p/Kiwi/1.jpg"]))
    assert not video_frames(pd.Series([], dtype=str))


def test_the_split_holds_out_whole_groups_of_every_class(sample: pd.DataFrame) -> None:
    held_out = group_split(sample, ProbeParams(test_fraction=0.25, frames_per_group=10))
    groups = frame_groups(sample["path"], sample["label"], 10)
    assert not set(groups[held_out]) & set(groups[~held_out])
    assert sample[held_out]["label"].value_counts().to_dict() == dict.fromkeys(sample["label"].unique(), 10)


def test_the_probe_separates_separable_classes_and_skips_one_class(sample: pd.DataFrame) -> None:
    metrics = evaluate_probe(sample, ProbeParams(test_fraction=0.25))
    assert metrics["accuracy"] >= 0.9 and metrics["classes"] == 3
    assert (metrics["train_images"], metrics["test_images"]) == (90, 30)
    assert evaluate_probe(sample[sample["label"] == "Kiwi"], ProbeParams()) == {
        "skipped": "needs at least 2 classes, got 1", "video_frames": True}
    assert metrics["video_frames"] and metrics["warnings"] == []
    assert evaluate_probe(sample, ProbeParams(enabled=False))["skipped"].startswith("disabled")


def test_neighbours_come_from_other_videos(sample: pd.DataFrame) -> None:
    rows = nearest_neighbours(sample, ReportingParams(gallery_queries=2, gallery_neighbours=3), ProbeParams())
    assert len(rows) == 2 and all(len(row) == 4 for row in rows)
    for query, *neighbours in rows:
        assert query[2] == 0.0 and all(distance > 0 for _, _, distance in neighbours)
        assert all(label == query[1] for _, label, _ in neighbours)  # separable classes: same-class neighbours


def test_one_training_image_per_class_skips_the_probe_with_the_reason_and_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn would warn that y looks like a regression target
        metrics = evaluate_probe(photos(classes=30, per_class=2, scale=1), ProbeParams())
    assert metrics == {"skipped": "too few images: each class needs 2 training images besides the held-out ones, "
                                  "and c0 has 1", "video_frames": False}


def test_scikit_learns_warnings_are_stated_in_the_probe_record_not_the_log() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = evaluate_probe(photos(classes=30, per_class=3, scale=10), ProbeParams())
    assert (metrics["split"], metrics["video_frames"], metrics["train_images"]) == ("held-out images", False, 60)
    assert metrics["warnings"] == ["ConvergenceWarning: lbfgs failed to converge after 300 iteration(s) (status=1)"]
