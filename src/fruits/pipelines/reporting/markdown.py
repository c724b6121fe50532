"""The report a person reads: one Markdown page with provenance, counts, PCA, probe, neighbours, rejects and timings."""

from __future__ import annotations

from typing import Any

import pandas as pd


def plural(count: int, noun: str) -> str:
    """``1 class``, ``2 classes``, ``1 image``, ``3 images``."""
    suffix = "es" if noun.endswith(("s", "sh", "ch", "x")) else "s"
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}{suffix}"


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
