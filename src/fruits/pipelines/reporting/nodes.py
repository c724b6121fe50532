"""Reporting: what a person looks at after a run (counts that add up, plots, a probe of the features' usefulness,
nearest neighbours, rejects, provenance and timings)."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL import Image
from pyspark.sql import DataFrame
from sklearn.linear_model import LogisticRegression

from fruits.datasets.image_tree import ImageTree
from fruits.images import THUMBNAIL, placeholder, thumbnail
from fruits.params import ProbeParams, ReportingParams
from fruits.tables import seeded_rank

logger = logging.getLogger(__name__)

# Fruits-360 names frames of one rotation video "<series>_<frame>_100.jpg" (3_100.jpg, r_36_100.jpg, r2_51_100.jpg).
FRAME_NAME = re.compile(r"^(?P<series>(?:[A-Za-z]+\d*_)?)(?P<frame>\d+)")


def plural(count: int, noun: str) -> str:
    """``1 class``, ``2 classes``, ``1 image``, ``3 images``."""
    suffix = "es" if noun.endswith(("s", "sh", "ch", "x")) else "s"
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}{suffix}"


def count_images_per_class(results: DataFrame, rejects: pd.DataFrame) -> pd.DataFrame:
    """Per class: images featurized, rejected, and their total."""
    featurized = results.groupBy("label").count().toPandas().rename(columns={"count": "featurized"})
    rejected = rejects.dropna(subset=["label"]).groupby("label").size().rename("rejected").reset_index()
    table = featurized.merge(rejected, on="label", how="outer").fillna(0)
    table[["featurized", "rejected"]] = table[["featurized", "rejected"]].astype(int)
    table["total"] = table["featurized"] + table["rejected"]
    return table.sort_values("label", ignore_index=True)[["label", "featurized", "rejected", "total"]]


def count_reject_reasons(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejects per kind."""
    counts = rejects["reject_kind"].value_counts().rename_axis("reject_kind").reset_index(name="images")
    return counts.sort_values(["images", "reject_kind"], ascending=[False, True], ignore_index=True)


def list_rejects(rejects: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """The rejected images with their kind and detail (capped: the full list is the rejects Parquet)."""
    return rejects.head(max_rows)


def sample_results(results: DataFrame, class_counts: pd.DataFrame, settings: ReportingParams,
                   probe: ProbeParams) -> pd.DataFrame:
    """A seeded per-class sample of the results for the probe, the map and the gallery (one pass, no shuffle)."""
    per_class = max(probe.max_train_per_class * 2, settings.map_max_points // max(1, len(class_counts)))
    fractions = {row.label: min(1.0, per_class / row.featurized) for row in class_counts.itertuples() if row.featurized}
    if not fractions:
        return pd.DataFrame(columns=["path", "label", "pca_features"])
    sample = results.sampleBy("label", fractions, seed=probe.seed)
    return sample.select("path", "label", "pca_features").toPandas()


def frame_groups(paths: pd.Series, labels: pd.Series, frames_per_group: int) -> pd.Series:
    """Groups of near-duplicate images: Fruits-360's images are frames of one video per fruit, so neighbouring
    frames (same series, frame numbers within ``frames_per_group``) stay on the same side of the split. A name
    without a frame number is a group of its own."""
    names = paths.str.rsplit("/", n=1).str[-1]
    parsed = names.str.extract(FRAME_NAME)
    block = pd.to_numeric(parsed["frame"], errors="coerce") // frames_per_group
    grouped = labels + "/" + parsed["series"].fillna("") + block.astype("Int64").astype(str)
    return grouped.where(block.notna(), labels + "/" + names)


def group_split(sample: pd.DataFrame, settings: ProbeParams) -> pd.Series:
    """True for held-out rows: about ``test_fraction`` of each class's frame groups, chosen by a seeded hash, at
    least one group held out and one kept for training."""
    groups = frame_groups(sample["path"], sample["label"], settings.frames_per_group)
    table = pd.DataFrame({"label": sample["label"], "group": groups}).drop_duplicates()
    table["order"] = seeded_rank(table["group"], settings.seed)
    table = table.sort_values(["label", "order"])
    rank = table.groupby("label").cumcount()
    size = table.groupby("label")["group"].transform("size")
    wanted = np.maximum(1, np.round(size * settings.test_fraction)).astype(int)
    table["held_out"] = (rank < np.minimum(size - 1, wanted)) & (size > 1)
    return groups.map(table.set_index("group")["held_out"]).astype(bool)


def evaluate_probe(sample: pd.DataFrame, settings: ProbeParams) -> dict[str, Any]:
    """A linear probe of the features' usefulness: logistic regression on the PCA features, accuracy on held-out
    frame groups (a random split would put near-identical video frames on both sides and flatter the score)."""
    classes = sample["label"].nunique()
    if not settings.enabled:
        return {"skipped": "disabled (probe.enabled: false)"}
    if classes < 2:
        return {"skipped": f"needs at least 2 classes, got {classes}"}
    held_out = group_split(sample, settings)
    train = sample[~held_out].groupby("label").head(settings.max_train_per_class)
    test = sample[held_out]
    if test.empty:
        return {"skipped": "too few images to hold some out"}
    model = LogisticRegression(max_iter=300, C=1.0)
    model.fit(np.stack(train["pca_features"].to_numpy()), train["label"])
    accuracy = float(model.score(np.stack(test["pca_features"].to_numpy()), test["label"]))
    logger.info("Probe: held-out accuracy %.3f on %d images of %d classes", accuracy, len(test), classes)
    return {
        "model": "logistic regression on pca_features",
        "split": f"held-out groups of {settings.frames_per_group} consecutive frames",
        "accuracy": round(accuracy, 4),
        "train_images": len(train),
        "test_images": len(test),
        "classes": classes,
    }


def plot_explained_variance(explained_variance: pd.DataFrame, pca_fit: dict[str, Any], target: float) -> Figure:
    """Cumulative explained variance against the number of components, around the target and the chosen k."""
    k = int(pca_fit["k"])
    shown = explained_variance.head(max(10, min(len(explained_variance), 2 * k)))
    figure = Figure(figsize=(7, 4))
    axis = figure.subplots()
    axis.plot(shown["component"], shown["cumulative"], label="cumulative explained variance")
    axis.axhline(target, color="grey", linestyle="--", label=f"target {target:.0%}")
    axis.axvline(k, color="red", linestyle=":", label=f"k = {k}")
    axis.set(xlabel="number of components", ylabel="explained variance", ylim=(0, 1.02),
             xlim=(0, shown["component"].max()),
             title=f"PCA of MobileNetV2 features: {k} components keep {pca_fit['explained_variance']:.1%}")
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure


def plot_pca_map(sample: pd.DataFrame, class_counts: pd.DataFrame, max_points: int) -> Figure:
    """The first two principal components, one distinct colour per class; with many classes each class's name is
    written at its centre instead of a legend."""
    points = sample.head(max_points)
    coordinates = np.stack(points["pca_features"].to_numpy())[:, :2] if len(points) else np.zeros((0, 2))
    labels = sorted(points["label"].unique())
    colours = colormaps["turbo"](np.linspace(0.05, 0.95, max(1, len(labels))))
    figure = Figure(figsize=(10, 8))
    axis = figure.subplots()
    for colour, label in zip(colours, labels, strict=False):
        mine = coordinates[(points["label"] == label).to_numpy()]
        axis.scatter(mine[:, 0], mine[:, 1], s=8, color=colour, label=label, alpha=0.7)
        if len(labels) > 20:
            axis.annotate(label, mine.mean(axis=0), fontsize=6, ha="center", color="black")
    if len(labels) <= 20:
        axis.legend(fontsize=7, markerscale=2, loc="best")
    total = int(class_counts["featurized"].sum())
    title = f"PCA map: a per-class sample of {len(points):,} of {total:,} images, {plural(len(labels), 'class')}"
    axis.set(xlabel="PC 1", ylabel="PC 2", title=title)
    figure.tight_layout()
    return figure


Neighbour = tuple[str, str, float]  # path, label, distance in PCA space


def nearest_neighbours(sample: pd.DataFrame, settings: ReportingParams, probe: ProbeParams) -> list[list[Neighbour]]:
    """For a few query images (of different classes), their nearest images in PCA space, other frame groups only
    (a neighbouring video frame is no news). Each row: the query first, then its neighbours."""
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


def _tile(axis: Any, picture: Image.Image | None, title: str, colour: str) -> None:
    axis.imshow(np.asarray(picture if picture is not None else placeholder()))
    if picture is None:
        axis.text(THUMBNAIL / 2, THUMBNAIL / 2, "cannot be shown", ha="center", va="center", fontsize=7)
    axis.set_title(title, fontsize=7, color=colour)
    axis.set_xticks([])
    axis.set_yticks([])


def plot_neighbours(sample: pd.DataFrame, raw_images: ImageTree, settings: ReportingParams,
                    probe: ProbeParams) -> Figure:
    """Query images (left) and their nearest neighbours in PCA space: red titles mark another class."""
    rows = nearest_neighbours(sample, settings, probe)
    columns = settings.gallery_neighbours + 1
    figure = Figure(figsize=(1.6 * columns, 1.8 * max(1, len(rows))))
    if not rows:
        figure.text(0.5, 0.5, "No images to show", ha="center")
        return figure
    contents = raw_images.read({path for row in rows for path, _, _ in row})
    axes = np.atleast_2d(figure.subplots(len(rows), columns, squeeze=False))
    for axis_row, row in zip(axes, rows, strict=True):
        query_label = row[0][1]
        for axis, (path, label, distance) in zip(axis_row, [*row, *[None] * columns], strict=False):
            if path is None:
                axis.axis("off")
                continue
            title = f"query: {label}" if distance == 0 else f"{label}\nd = {distance:.1f}"
            _tile(axis, thumbnail(contents[path]), title, "black" if label == query_label else "red")
    figure.suptitle("Nearest neighbours in PCA space (other videos only)", fontsize=10)
    figure.tight_layout()
    return figure


def plot_rejects(rejects: pd.DataFrame, raw_images: ImageTree, max_images: int = 12) -> Figure:
    """Thumbnails of the first rejects with their kind (most cannot be decoded, which is why they are here)."""
    shown = rejects.head(max_images)
    columns = 6
    rows = max(1, -(-len(shown) // columns))
    figure = Figure(figsize=(1.8 * columns, 2.0 * rows))
    if shown.empty:
        figure.text(0.5, 0.5, "No rejects", ha="center")
        return figure
    contents = raw_images.read(shown["path"])
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, reject in zip(axes, [*shown.itertuples(), *[None] * len(axes)], strict=False):
        if reject is None:
            axis.axis("off")
            continue
        name = reject.path.rsplit("/", 1)[-1]
        _tile(axis, thumbnail(contents[reject.path]), f"{name[:24]}\n{reject.reject_kind[:28]}", "black")
    figure.suptitle(f"Rejected images (first {len(shown)} of {len(rejects)})", fontsize=10)
    figure.tight_layout()
    return figure


def check_counts(report: dict[str, Any]) -> dict[str, Any]:
    """Every listed file is accounted for once, from the listing and the featurization of one run; the run fails
    (publishes nothing) otherwise."""
    counts = {
        "listed": int(report["listed"]),
        "ignored": int(report["ignored"]),
        "ignored_by_kind": dict(report["ignored_by_kind"]),
        "not_sampled": int(report["images"]) - int(report["sampled"]),
        "skipped": int(report["skipped"]),
        "featurized": int(report["featurized"]),
        "rejected": int(report["listing_rejected"]) + int(report["rejected"]),
    }
    parts = ("ignored", "not_sampled", "skipped", "featurized", "rejected")
    accounted = sum(counts[part] for part in parts)
    if accounted != counts["listed"]:
        raise ValueError(
            f"{counts['listed']} files were listed but {accounted} are accounted for (ignored {counts['ignored']} + "
            f"not sampled {counts['not_sampled']} + skipped {counts['skipped']} + featurized {counts['featurized']} "
            f"+ rejected {counts['rejected']}): nothing is published."
        )
    return counts


def summarize_run(
    featurization_report: dict[str, Any],
    pca_fit: dict[str, Any],
    probe: dict[str, Any],
    class_counts: pd.DataFrame,
    reject_reasons: pd.DataFrame,
    rejects: pd.DataFrame,
    run_info: dict[str, Any],
    run_metrics: dict[str, Any],
) -> dict[str, Any]:
    """The machine-readable summary: provenance, counts that add up, the store, PCA, probe and timings."""
    counts = check_counts(featurization_report)
    featurized_now = int(class_counts["featurized"].sum())
    return {
        "run": dict(run_info),
        "counts": {
            **counts,
            "rejected_by_kind": dict(zip(reject_reasons["reject_kind"], map(int, reject_reasons["images"]),
                                         strict=True)),
            "new": featurization_report["new"],
            "changed": featurization_report["changed"],
            "deleted": featurization_report["deleted"],
            "unchanged": featurization_report["unchanged"],
        },
        "results": {"images": featurized_now, "classes": int((class_counts["featurized"] > 0).sum()),
                    "rejects": len(rejects)},
        "model": {key: featurization_report[key] for key in ("engine", "fingerprint", "image_size")},
        "featurization": {key: featurization_report[key] for key in
                          ("to_featurize", "images_inferred", "models_built", "full_refresh")},
        "pca": pca_fit,
        "probe": probe,
        "stage_seconds": dict(run_metrics["stage_seconds"]),
    }


def _markdown_table(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(str(value) for value in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, *rows])


def _probe_sentence(probe: dict[str, Any]) -> str:
    if "skipped" in probe:
        return f"No probe: {probe['skipped']}."
    return (
        f"Held-out accuracy of a {probe['model']}: **{probe['accuracy']:.1%}** ({probe['train_images']:,} train / "
        f"{probe['test_images']:,} test images over {plural(probe['classes'], 'class')}). The split holds out whole "
        f"groups of consecutive video frames: Fruits-360 images are frames of one video per fruit, so a random split "
        "would put near-identical frames on both sides and flatter the score."
    )


def render_report(summary: dict[str, Any], class_counts: pd.DataFrame, reject_reasons: pd.DataFrame) -> str:
    """One Markdown page linking the plots: provenance, counts, PCA, probe, neighbours, rejects and timings."""
    run, counts, pca = summary["run"], summary["counts"], summary["pca"]
    stages = pd.DataFrame(list(summary["stage_seconds"].items()), columns=["stage", "seconds"])
    stages.loc[len(stages)] = ["all stages", round(float(stages["seconds"].sum()), 1)]
    ignored = ", ".join(f"{count} {kind}" for kind, count in counts["ignored_by_kind"].items()) or "none"
    return "\n\n".join([
        "# Fruits! featurization report",
        f"Run `{run['run_id']}`, {run['started_at']}, environment `{run['env']}`, code {run['code_version']}.  \n"
        f"Input `{run['raw_images']}`, sampling {run['sampling']}.  \n"
        f"Model: MobileNetV2 {summary['model']['engine']} at {summary['model']['image_size']} px, fingerprint "
        f"`{summary['model']['fingerprint']}` (weights `{run['weights']}`).",
        "## What happened to every file\n"
        f"{plural(counts['listed'], 'file')} listed: {counts['ignored']:,} ignored ({ignored}), "
        f"{counts['not_sampled']:,} not sampled, {counts['skipped']:,} skipped (already in the feature store), "
        f"**{counts['featurized']:,} featurized**, {counts['rejected']:,} rejected. Since the last published run: "
        f"{counts['new']:,} new, {counts['changed']:,} changed, {counts['deleted']:,} deleted, "
        f"{counts['unchanged']:,} unchanged. MobileNetV2 ran on {summary['featurization']['images_inferred']:,} images "
        f"(the model was loaded {plural(summary['featurization']['models_built'], 'time')} by Spark's Python workers).",
        f"The published results hold **{summary['results']['images']:,} images** of "
        f"{plural(summary['results']['classes'], 'class')}; {summary['results']['rejects']:,} rejects are listed in "
        "`rejects.parquet`.",
        f"## PCA\nk = **{pca['k']}** components keep **{pca['explained_variance']:.1%}** of the variance "
        f"(fitted on {pca['fitted_on_images']:,} images). This run: "
        + ("refitted, because " + pca["reason"] if pca["refit"] else pca["reason"]) + ".\n\n"
        "![explained variance](explained_variance.png)\n\n![PCA map](pca_map.png)",
        "## Are the features useful?\n" + _probe_sentence(summary["probe"]),
        "## Nearest neighbours\nEach row: a query image, then its nearest images in PCA space from other videos "
        "(red: another class).\n\n![nearest neighbours](neighbours.png)",
        "## Images per class\n" + _markdown_table(class_counts),
        "## Rejects\n" + (_markdown_table(reject_reasons) + "\n\n![rejects](rejects.png)\n\nList: `rejects.csv`."
                          if len(reject_reasons) else "None."),
        "## Stage timings (seconds, in the order they ran)\n" + _markdown_table(stages),
    ])
