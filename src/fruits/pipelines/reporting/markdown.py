"""The report a person reads: one Markdown page with provenance, counts, PCA, probe, neighbours, rejects and timings."""

from __future__ import annotations

from typing import Any

import pandas as pd


def plural(count: int, noun: str) -> str:
    """``1 class``, ``2 classes``, ``1 image``, ``3 images``."""
    suffix = "es" if noun.endswith(("s", "sh", "ch", "x")) else "s"
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}{suffix}"


def agrees(count: int, singular: str, plural_form: str) -> str:
    """The words that agree with ``count``: ``agrees(1, "is", "are")`` is ``is``."""
    return singular if count == 1 else plural_form


def _markdown_table(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(str(value) for value in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, *rows])


def _probe_sentence(probe: dict[str, Any]) -> str:
    if "skipped" in probe:
        return f"No probe: {probe['skipped']}."
    sentence = (
        f"Held-out accuracy of a {probe['model']}: **{probe['accuracy']:.1%}** ({probe['train_images']:,} train / "
        f"{plural(probe['test_images'], 'test image')} over {plural(probe['classes'], 'class')})."
    )
    if probe["video_frames"]:
        sentence += (" The split holds out whole groups of consecutive video frames: Fruits-360 images are frames of "
                     "one video per fruit, so a random split would put near-identical frames on both sides and "
                     "flatter the score.")
    if probe["warnings"]:
        sentence += " scikit-learn warned: " + "; ".join(probe["warnings"])
    return sentence


def _stage_table(stage_seconds: dict[str, float]) -> pd.DataFrame:
    """Every stage so far, in the order they ran, then this one (still running) and the total."""
    stages = pd.DataFrame(list(stage_seconds.items()), columns=["stage", "seconds"])
    total = round(float(stages["seconds"].sum()), 1)
    stages.loc[len(stages)] = ["render_report (this page)", "—"]
    stages.loc[len(stages)] = ["all stages before this page", total]
    return stages


def drawn_files(drawn_by: str, run_id: str) -> str:
    """Where the page finds its figures and rejects.csv, relative to itself: beside it, or in the same folder of
    the run that drew them (``runs/<run id>/08_reporting/``) when this run kept that run's report parts."""
    return "" if drawn_by == run_id else f"../../{drawn_by}/08_reporting/"


def _kept_sentence(drawn_by: str, run_id: str) -> str:
    return "" if drawn_by == run_id else (f"  \nThe results and rejects are as run `{drawn_by}` left them: its counts, "
                                          "probe and figures are kept.")


def render_report(summary: dict[str, Any], class_counts: pd.DataFrame, reject_reasons: pd.DataFrame,
                  run_metrics: dict[str, Any], report_plan: dict[str, Any]) -> str:
    """One Markdown page linking the plots (this run's, or those of the run whose report it kept): provenance,
    counts, PCA, probe, neighbours, rejects and timings (read when the page is written, so they include the
    summary's)."""
    run, counts, pca, results = summary["run"], summary["counts"], summary["pca"], summary["results"]
    drawn_by = report_plan["made_by"]
    files = drawn_files(drawn_by, run["run_id"])
    ignored = ", ".join(f"{count} {kind}" for kind, count in counts["ignored_by_kind"].items()) or "none"
    inferred = summary["featurization"]["images_inferred"]
    others = " from other videos" if summary["probe"].get("video_frames") else ""
    return "\n\n".join([
        "# Fruits! featurization report",
        f"Run `{run['run_id']}`, {run['started_at']}, environment `{run['env']}`, code {run['code_version']}.  \n"
        f"Input `{run['raw_images']}`, sampling {run['sampling']}.  \n"
        f"Model: MobileNetV2 {summary['model']['engine']} at {summary['model']['image_size']} px, fingerprint "
        f"`{summary['model']['fingerprint']}` (weights `{run['weights']}`)." + _kept_sentence(drawn_by, run["run_id"]),
        "## What happened to every file\n"
        f"{plural(counts['listed'], 'file')} listed: {counts['ignored']:,} ignored ({ignored}), "
        f"{counts['not_sampled']:,} not sampled, {counts['skipped']:,} skipped (already in the feature store), "
        f"**{counts['featurized']:,} featurized**, {counts['rejected']:,} rejected. Since the last published run: "
        f"{counts['new']:,} new, {counts['changed']:,} changed, {counts['unchanged']:,} unchanged, "
        f"{counts['gone']:,} gone from the tree, {counts['left_sample']:,} left the sample (still in the tree, not "
        f"sampled). MobileNetV2 ran on {plural(inferred, 'image')}.",
        f"The published results hold **{plural(results['images'], 'image')}** of {plural(results['classes'], 'class')}"
        f"; {plural(results['rejects'], 'reject')} {agrees(results['rejects'], 'is', 'are')} listed in "
        "the `rejects` table.",
        f"## PCA\nk = **{pca['k']}** {agrees(pca['k'], 'component keeps', 'components keep')} "
        f"**{pca['explained_variance']:.1%}** of the variance (fitted on {plural(pca['fitted_on_images'], 'image')}). "
        "This run: " + ("refitted, because " + pca["reason"] if pca["refit"] else pca["reason"]) + ".\n\n"
        f"![explained variance]({files}explained_variance.png)\n\n![PCA map]({files}pca_map.png)",
        "## Are the features useful?\n" + _probe_sentence(summary["probe"]),
        f"## Nearest neighbours\nEach row: a query image, then its nearest images in PCA space{others} "
        f"(red: another class).\n\n![nearest neighbours]({files}neighbours.png)",
        "## Images per class\n" + _markdown_table(class_counts),
        "## Rejects\n" + (_markdown_table(reject_reasons) + f"\n\n![rejects]({files}rejects.png)\n\nList: "
                          f"[`rejects.csv`]({files}rejects.csv)."
                          if len(reject_reasons) else "None."),
        "## Stage timings (seconds, in the order they ran)\n"
        + _markdown_table(_stage_table(run_metrics["stage_seconds"])),
    ]) + "\n"
