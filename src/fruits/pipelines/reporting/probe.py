"""Are the features useful? A linear probe on held-out frame groups of the report's sample, and each query's nearest
neighbours in PCA space."""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from fruits.params import ProbeParams, ReportingParams

logger = logging.getLogger(__name__)


# Fruits-360 names frames of one rotation video "<series>_<frame>_100.jpg" (3_100.jpg, r_36_100.jpg, r2_51_100.jpg).
FRAME_NAME = re.compile(r"^(?P<series>(?:[A-Za-z]+\d*_)?)(?P<frame>\d+)_100\.jpg$")
# A class with one training image is a lookup, not a fit (scikit-learn warns that ``y`` looks like a regression
# target): below this, the probe is skipped with the reason.
MIN_TRAIN_PER_CLASS = 2


def file_names(paths: pd.Series) -> pd.Series:
    """The last part of each path or URI."""
    return paths.str.rsplit("/", n=1).str[-1]


def video_frames(paths: pd.Series) -> bool:
    """True when most images are named like Fruits-360's video frames: only then does the report speak of videos."""
    return bool(len(paths)) and bool(file_names(paths).str.match(FRAME_NAME).mean() > 0.5)


def frame_groups(paths: pd.Series, labels: pd.Series, frames_per_group: int) -> pd.Series:
    """Groups of near-duplicate images: Fruits-360's images are frames of one video per fruit, so neighbouring
    frames (same series, frame numbers within ``frames_per_group``) stay on the same side of the split. Any other
    name is a group of its own."""
    names = file_names(paths)
    parsed = names.str.extract(FRAME_NAME)
    block = pd.to_numeric(parsed["frame"], errors="coerce") // frames_per_group
    grouped = labels + "/" + parsed["series"].fillna("") + block.astype("Int64").astype(str)
    return grouped.where(block.notna(), labels + "/" + names)


def group_split(sample: pd.DataFrame, settings: ProbeParams) -> pd.Series:
    """True for held-out rows: about ``test_fraction`` of each class's frame groups, chosen by a seeded hash, at
    least one group held out and one kept for training."""
    groups = frame_groups(sample["path"], sample["label"], settings.frames_per_group)
    table = pd.DataFrame({"label": sample["label"], "group": groups}).drop_duplicates()
    table["order"] = pd.util.hash_pandas_object(table["group"], index=False,
                                                hash_key=format(settings.seed % 2**64, "016x")).to_numpy()
    table = table.sort_values(["label", "order"])
    rank = table.groupby("label").cumcount()
    size = table.groupby("label")["group"].transform("size")
    wanted = np.maximum(1, np.round(size * settings.test_fraction)).astype(int)
    table["held_out"] = (rank < np.minimum(size - 1, wanted)) & (size > 1)
    return groups.map(table.set_index("group")["held_out"]).astype(bool)


def evaluate_probe(sample: pd.DataFrame, settings: ProbeParams) -> dict[str, Any]:
    """A linear probe of the features' usefulness: logistic regression on the PCA features, accuracy on held-out
    frame groups (a random split would put near-identical video frames on both sides and flatter the score).

    Skipped, with the reason, when the sample cannot support it; scikit-learn's warnings (e.g. no convergence) are
    kept in the record instead of the log."""
    frames = video_frames(sample["path"])
    classes = sample["label"].nunique()
    if not settings.enabled:
        return {"skipped": "disabled (probe.enabled: false)", "video_frames": frames}
    if classes < 2:
        return {"skipped": f"needs at least 2 classes, got {classes}", "video_frames": frames}
    held_out = group_split(sample, settings)
    train = sample[~held_out].groupby("label").head(settings.max_train_per_class)
    test = sample[held_out]
    if test.empty:
        return {"skipped": "too few images to hold some out", "video_frames": frames}
    smallest = train["label"].value_counts()
    if smallest.min() < MIN_TRAIN_PER_CLASS:
        return {"skipped": f"too few images: each class needs {MIN_TRAIN_PER_CLASS} training images besides the "
                           f"held-out ones, and {smallest.idxmin()} has {smallest.min()}", "video_frames": frames}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LogisticRegression(max_iter=300, C=1.0)
        model.fit(np.stack(train["pca_features"].to_numpy()), train["label"])
        accuracy = float(model.score(np.stack(test["pca_features"].to_numpy()), test["label"]))
    logger.info("Probe: held-out accuracy %.3f on %d images of %d classes", accuracy, len(test), classes)
    return {
        "model": "logistic regression on pca_features",
        "split": f"held-out groups of {settings.frames_per_group} consecutive frames" if frames else
                 "held-out images",
        "video_frames": frames,
        "accuracy": round(accuracy, 4),
        "train_images": len(train),
        "test_images": len(test),
        "classes": classes,
        "warnings": sorted({f"{warning.category.__name__}: {str(warning.message).splitlines()[0].rstrip(':. ')}"
                            for warning in caught}),
    }


Neighbour = tuple[str, str, float]  # path, label, distance in PCA space


def nearest_neighbours(sample: pd.DataFrame, settings: ReportingParams, probe: ProbeParams) -> list[list[Neighbour]]:
    """For a few query images (of different classes), their nearest images in PCA space, other frame groups only
    (a neighbouring video frame is no news; any other image is its own group). Each row: the query first, then its
    neighbours."""
    if sample.empty or settings.gallery_queries == 0:
        return []
    vectors = np.stack(sample["pca_features"].to_numpy()).astype(np.float64)
    groups = frame_groups(sample["path"], sample["label"], probe.frames_per_group).to_numpy()
    labels = sample["label"].drop_duplicates().sample(frac=1, random_state=probe.seed).head(settings.gallery_queries)
    neighbours = settings.gallery_neighbours
    rows = []
    for label in labels:
        query = int(np.flatnonzero((sample["label"] == label).to_numpy())[0])
        distances = np.linalg.norm(vectors - vectors[query], axis=1)
        distances[groups == groups[query]] = np.inf
        order = np.argsort(distances)[:neighbours]
        rows.append([(sample["path"].iloc[query], label, 0.0)]
                    + [(sample["path"].iloc[i], sample["label"].iloc[i], float(distances[i])) for i in order
                       if np.isfinite(distances[i])])
    return rows
