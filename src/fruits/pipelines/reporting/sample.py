"""The report's sample of the results, behind the probe, the map and the gallery: per class, the images that come
first in a seeded order of their paths (``draw``, then the path), a quota of each class.

Drawn from every result only when no published sample describes the results this run started from (the first
report, a PCA refit, other sampling settings, results changed by a run that made no report). Otherwise the published
sample is moved by the results' changes since (Delta's change feed): a class is drawn again from the results only
when the images it kept and those added within its bound are fewer than its quota, so a run that adds images reads
the images it added, not the results."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from fruits.datasets.table import TableChanges
from fruits.params import ProbeParams, ReportingParams
from fruits.tables import seeded_rank

logger = logging.getLogger(__name__)

SAMPLE_COLUMNS = ["path", "label", "pca_features", "pca_run_id", "draw"]
ORDER = ["label", "draw", "path"]  # the sample's rows, whichever way it was made


def class_quota(classes: int, settings: ReportingParams, probe: ProbeParams) -> int:
    """Images sampled per class: the probe's training and held-out images, or the map's points shared among the
    classes, whichever is more."""
    return max(probe.max_train_per_class * 2, settings.map_max_points // max(1, classes))


def sampling_settings(reporting: dict[str, Any], probe: dict[str, Any]) -> dict[str, Any]:
    """The settings (as the report's plan records them) that decide which images are sampled; the others change
    only what is made from the sample."""
    return {"map_max_points": reporting["map_max_points"], "max_train_per_class": probe["max_train_per_class"],
            "seed": probe["seed"]}


def drawn(results: DataFrame, seed: int) -> DataFrame:
    """The sample's columns of results rows, with their place in the seeded order (``draw``)."""
    return results.select("path", "label", "pca_features", "pca_run_id", seeded_rank("path", seed).alias("draw"))


def first_per_class(rows: DataFrame, quota: int) -> pd.DataFrame:
    """The first ``quota`` rows of each class in draw order. Spark keeps each partition's first rows per class
    before it shuffles (a window group limit, for quotas up to 1,000), so drawing from every result moves a few
    rows per class, not the results."""
    order = Window.partitionBy("label").orderBy("draw", "path")
    first = rows.withColumn("rank", F.row_number().over(order)).where(F.col("rank") <= quota).drop("rank")
    return first.toPandas()[SAMPLE_COLUMNS]


def sample_results(results: DataFrame, results_changes: TableChanges | None, previous_sample: pd.DataFrame | None,
                   previous_report_plan: dict[str, Any] | None, class_counts: pd.DataFrame, pca_fit: dict[str, Any],
                   settings: ReportingParams, probe: ProbeParams) -> pd.DataFrame:
    """The report's sample of ``results``: the published one (``previous_sample``, drawn for
    ``previous_report_plan``) moved by the results' changes when it describes the version they start from, with the
    same sampling settings and PCA fit; else drawn from every result."""
    counts = class_counts.loc[class_counts["featurized"] > 0].set_index("label")["featurized"]
    quota = class_quota(len(counts), settings, probe)
    if describes(previous_sample, previous_report_plan, results_changes, pca_fit["fit_run_id"], settings, probe):
        quota_then = class_quota(previous_sample["label"].nunique(), settings, probe)
        sample = moved_sample(previous_sample, quota_then, results_changes, results, counts, quota, probe.seed)
    else:
        logger.info("The report's sample is drawn from every result (%d per class)", quota)
        sample = first_per_class(drawn(results, probe.seed), quota)
    return sample.sort_values(ORDER, ignore_index=True)


def describes(previous_sample: pd.DataFrame | None, previous_report_plan: dict[str, Any] | None,
              results_changes: TableChanges | None, fit_run_id: str, settings: ReportingParams,
              probe: ProbeParams) -> bool:
    """Whether the published sample was drawn, with these sampling settings, from the results version this run's
    changes start from, all of it projected by the PCA fit the results now hold."""
    if previous_sample is None or previous_report_plan is None or results_changes is None:
        return False
    basis = previous_report_plan["basis"]
    return (list(previous_sample.columns) == SAMPLE_COLUMNS
            and sampling_settings(basis["reporting"], basis["probe"])
            == sampling_settings(settings.model_dump(), probe.model_dump())
            and basis["tables"].get("results") == results_changes.since
            and set(previous_sample["pca_run_id"]) <= {fit_run_id})


def moved_sample(previous: pd.DataFrame, quota_then: int, changes: TableChanges, results: DataFrame,
                 counts: pd.Series, quota: int, seed: int) -> pd.DataFrame:
    """``previous`` (drawn ``quota_then`` per class) moved by ``changes`` to ``quota`` per class of the results'
    ``counts``: the images it kept and the changed images within each class's bound (:func:`class_bounds`), the
    first of them; a class they are too few for is drawn again from the results."""
    bounds = F.broadcast(class_bounds(previous, quota_then, results.sparkSession))
    within = F.col("bound").isNull() | (F.struct("draw", "path") <= F.col("bound"))
    left = drawn(changes.rows.where(F.col("before").isNotNull()).select("before.*"), seed)
    gone = {row.path for row in left.join(bounds, "label").where(within).select("path").collect()}
    added = drawn(changes.rows.where(F.col("after").isNotNull()).select("after.*"), seed)
    pooled = pd.concat([previous[~previous["path"].isin(gone)],
                        first_per_class(added.join(bounds, "label", "left").where(within).drop("bound"), quota)])
    pooled = pooled[pooled["label"].isin(counts.index)].sort_values(ORDER)
    have = pooled.groupby("label").size().reindex(counts.index, fill_value=0)
    short = sorted(counts.index[have < counts.clip(upper=quota)])
    logger.info("The report's sample moved by the results' changes since version %d (%d sampled images left)",
                changes.since, len(gone))
    moved = pooled[~pooled["label"].isin(short)].groupby("label").head(quota)
    return pd.concat([moved, redrawn(results, short, quota, seed)]) if short else moved


def class_bounds(previous: pd.DataFrame, quota_then: int, spark: SparkSession) -> DataFrame:
    """Per class of ``previous``, its bound: the place in the order (``draw``, ``path``) of its last sampled image
    when it held a full quota, as it then holds every image of the class up to there; none for a class held whole.
    An image of a class within its bound is sampled, and the changes' images of a class beyond it are not."""
    last = previous.sort_values(ORDER).groupby("label").agg(size=("path", "size"), draw=("draw", "last"),
                                                           path=("path", "last"))
    return spark.createDataFrame(
        [(label, (int(draw), path) if size >= quota_then else None) for label, size, draw, path in last.itertuples()],
        "label string, bound struct<draw: long, path: string>")


def redrawn(results: DataFrame, classes: list[str], quota: int, seed: int) -> pd.DataFrame:
    """``classes`` drawn again from the results: those whose images kept and added within their bound are fewer than
    their quota (they lost sampled images, or the quota grew as classes went)."""
    logger.info("The sample of %d classes cannot be completed from the changes (sampled images left, or a larger "
                "quota): drawn again from the results (%s)", len(classes),
                ", ".join(classes[:5]) + (" ..." if len(classes) > 5 else ""))
    return first_per_class(drawn(results.where(F.col("label").isin(classes)), seed), quota)
