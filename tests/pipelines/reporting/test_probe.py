"""The probe does not flatter: whole frame groups are held out; neighbours come from other videos."""

from __future__ import annotations

import pandas as pd

from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.probe import evaluate_probe, frame_groups, group_split, nearest_neighbours


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
    assert sample[held_out]["label"].value_counts().to_dict() == dict.fromkeys(sample["label"].unique(), 10)


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
