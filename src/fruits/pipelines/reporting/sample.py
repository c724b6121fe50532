"""The report's sample of the results, behind the probe, the map and the gallery: per class, the images that come
first in a seeded order of their paths (``draw``), a quota of each class.

Drawn from every result only when no published sample describes the results this run started from (the first
report, a PCA refit, other report settings, results changed by a run that made no report). Otherwise the published
sample is moved by the results' changes since (Delta's change feed): a class is drawn again from the results only
when it lost a sampled image that the images left and added cannot replace, so a run that adds images reads the
images it added, not the results."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fruits.datasets.table import TableChanges
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.counts import report_basis
from fruits.tables import seeded_rank

logger = logging.getLogger(__name__)

SAMPLE_COLUMNS = ["path", "label", "pca_features", "pca_run_id", "draw"]


def class_quota(classes: int, settings: ReportingParams, probe: ProbeParams) -> int:
    """Images sampled per class: the probe's training and held-out images, or the map's points shared among the
    classes, whichever is more."""
    return max(probe.max_train_per_class * 2, settings.map_max_points // max(1, classes))


def drawn(results: DataFrame, seed: int) -> DataFrame:
    """The sample's columns of results rows, with their place in the seeded order (``draw``)."""
    return results.select("path", "label", "pca_features", "pca_run_id", seeded_rank("path", seed).alias("draw"))


def first_per_class(rows: DataFrame, quota: int) -> DataFrame:
    """The first ``quota`` rows of each class in draw order. Spark keeps each partition's first rows per class
    before it shuffles (a window group limit, for quotas up to 1,000), so drawing from every result moves a few
    rows per class, not the results."""
    order = Window.partitionBy("label").orderBy("draw", "path")
    return rows.withColumn("rank", F.row_number().over(order)).where(F.col("rank") <= quota).drop("rank")


def sample_results(results: DataFrame, results_changes: TableChanges | None, previous_sample: pd.DataFrame | None,
                   previous_report_plan: dict[str, Any] | None, class_counts: pd.DataFrame, pca_fit: dict[str, Any],
                   settings: ReportingParams, probe: ProbeParams) -> pd.DataFrame:
    """The report's sample of ``results``: the published one (``previous_sample``, drawn for
    ``previous_report_plan``) moved by the results' changes when it describes the version they start from, with the
    same settings and PCA fit; else drawn from every result."""
    counts = class_counts.loc[class_counts["featurized"] > 0].set_index("label")["featurized"]
    quota = class_quota(len(counts), settings, probe)
    if describes(previous_sample, previous_report_plan, results_changes, pca_fit["fit_run_id"], settings, probe):
        quota_then = class_quota(previous_sample["label"].nunique(), settings, probe)
        return moved_sample(previous_sample, quota_then, results_changes, results, counts, quota, probe.seed)
    logger.info("The report's sample is drawn from every result (%d per class)", quota)
    return first_per_class(drawn(results, probe.seed), quota).toPandas()[SAMPLE_COLUMNS]


def describes(previous_sample: pd.DataFrame | None, previous_report_plan: dict[str, Any] | None,
              results_changes: TableChanges | None, fit_run_id: str, settings: ReportingParams,
              probe: ProbeParams) -> bool:
    """Whether the published sample was drawn, with these settings, from the results version this run's changes
    start from, all of it projected by the PCA fit the results now hold."""
    if previous_sample is None or previous_report_plan is None or results_changes is None:
        return False
    basis = previous_report_plan["basis"]
    return (list(previous_sample.columns) == SAMPLE_COLUMNS
            and basis == report_basis(basis["tables"], settings, probe)
            and basis["tables"].get("results") == results_changes.since
            and set(previous_sample["pca_run_id"]) <= {fit_run_id})


def moved_sample(previous: pd.DataFrame, quota_then: int, changes: TableChanges, results: DataFrame,
                 counts: pd.Series, quota: int, seed: int) -> pd.DataFrame:
    """``previous`` (drawn ``quota_then`` per class) moved by ``changes`` to ``quota`` per class of the results'
    ``counts``.

    A class the published sample held a full quota of holds every image up to its last sampled one (its bound): an
    image of it the changes took out was sampled when it comes within the bound, and its new sample is the first of
    the images kept and of the changed images within the bound, as long as they are enough. A class held whole has
    no bound. A class they are not enough for (it lost sampled images) is drawn again from the results."""
    held = previous.groupby("label")["draw"].agg(["size", "max"])
    bounds = results.sparkSession.createDataFrame(
        [(label, int(last) if size >= quota_then else None) for label, size, last in held.itertuples()],
        "label string, bound long")
    within = F.col("bound").isNull() | (F.col("draw") <= F.col("bound"))
    left = drawn(changes.rows.where(F.col("before").isNotNull()).select("before.*"), seed)
    gone = {row.path for row in left.join(F.broadcast(bounds), "label").where(within).select("path").collect()}
    candidates = drawn(changes.rows.where(F.col("after").isNotNull()).select("after.*"), seed)
    added = first_per_class(candidates.join(F.broadcast(bounds), "label", "left").where(within).drop("bound"), quota)
    pooled = pd.concat([previous[~previous["path"].isin(gone)], added.toPandas()[SAMPLE_COLUMNS]])
    pooled = pooled[pooled["label"].isin(counts.index)].sort_values(["label", "draw", "path"])
    have = pooled.groupby("label").size().reindex(counts.index, fill_value=0)
    short = sorted(counts.index[have < counts.clip(upper=quota)])
    moved = pooled[~pooled["label"].isin(short)].groupby("label").head(quota)
    logger.info("The report's sample moved by the results' changes since version %d (%d sampled images left)",
                changes.since, len(gone))
    if short:
        logger.info("%d classes lost sampled images the changes do not replace: drawn again from the results (%s)",
                    len(short), ", ".join(short[:5]) + (" ..." if len(short) > 5 else ""))
        redrawn = first_per_class(drawn(results.where(F.col("label").isin(short)), seed), quota)
        moved = pd.concat([moved, redrawn.toPandas()[SAMPLE_COLUMNS]])
    return moved.sort_values(["label", "draw", "path"], ignore_index=True)[SAMPLE_COLUMNS]
