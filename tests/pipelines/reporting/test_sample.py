"""The report's sample moved by the results' changes is the sample drawn from every result, and reads the results
only for a class whose sample the changes cannot complete."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fruits.datasets.table import TableChanges
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.counts import report_basis
from fruits.pipelines.reporting.sample import sample_results
from fruits.tables import RESULTS, spark_schema

# 4 images per class, 6 once there are only 2 classes (the map's 12 points shared among them)
SETTINGS, PROBE = ReportingParams(map_max_points=12), ProbeParams(max_train_per_class=2)
FIT = {"fit_run_id": "fit-1"}


def path_of(label: str, number: int) -> str:
    return f"s3://photos/{label}/IMG_{number}.jpg"


def results_of(spark: SparkSession, images: dict[str, range], edited: frozenset[str] = frozenset()) -> DataFrame:
    """Results rows of ``images`` (per class, their numbers); the ``edited`` paths have other features."""
    rows = [(path, label, "k2" if path in edited else "k1", "fp", [float(number), float(path in edited)], "fit-1")
            for label, numbers in images.items() for number in numbers for path in [path_of(label, number)]]
    return spark.createDataFrame(rows, spark_schema(RESULTS))


def changes_between(before: DataFrame, after: DataFrame, since: int) -> TableChanges:
    """What the results' change feed gives from ``before`` (version ``since``) to ``after``."""
    def ends(rows: DataFrame, name: str) -> DataFrame:
        return rows.select("path", F.struct(*RESULTS.names).alias(name))

    rows = ends(before, "before").join(ends(after, "after"), "path", "full_outer")
    return TableChanges(since, since + 1, rows.where(~F.col("before").eqNullSafe(F.col("after"))))


def counts_of(results: DataFrame) -> pd.DataFrame:
    """The report's counts of ``results`` (images featurized per class)."""
    return results.groupBy("label").count().toPandas().rename(columns={"count": "featurized"})


def drawn_from_every_result(results: DataFrame) -> pd.DataFrame:
    return sample_results(results, None, None, None, counts_of(results), FIT, SETTINGS, PROBE)


def plan_at(version: int, reporting: ReportingParams = SETTINGS) -> dict:
    """The published report's plan, made from results ``version``."""
    return {"basis": report_basis({"results": version, "rejects": 1}, reporting, PROBE)}


def as_rows(sample: pd.DataFrame) -> list[tuple]:
    return [(row.path, row.label, row.draw, tuple(row.pca_features)) for row in sample.itertuples()]


def test_a_moved_sample_is_the_sample_drawn_from_every_result(spark, caplog: pytest.LogCaptureFixture) -> None:
    before = results_of(spark, {"Apple": range(30), "Kiwi": range(3), "Lemon": range(5)})
    published = drawn_from_every_result(before)
    assert published.groupby("label").size().to_dict() == {"Apple": 4, "Kiwi": 3, "Lemon": 4}
    first = published["path"].iloc[0]  # the first Apple in the seeded order
    unsampled = sorted(set(before.where("label = 'Apple'").toPandas()["path"]) - set(published["path"]))
    after = results_of(spark, {"Apple": range(50), "Kiwi": range(3), "Mango": range(6)},  # Lemon gone, Mango new
                       edited=frozenset([first, unsampled[0]])).where(F.col("path") != unsampled[1])
    no_results = spark.createDataFrame([], spark_schema(RESULTS))  # nothing to draw again: the results are not read
    moved = sample_results(no_results, changes_between(before, after, 3), published, plan_at(3), counts_of(after),
                           FIT, SETTINGS, PROBE)
    assert as_rows(moved) == as_rows(drawn_from_every_result(after))
    assert (first, 1.0) in [(row.path, row.pca_features[1]) for row in moved.itertuples()]  # with its new features

    # Mango gone: 6 per class; Apple grows beyond its bound, Kiwi (held whole) loses a sampled image, no loss
    kiwi = moved.loc[moved["label"] == "Kiwi", "path"].iloc[0]
    fewer = results_of(spark, {"Apple": range(60), "Kiwi": range(3)}).where(F.col("path") != kiwi)
    with caplog.at_level(logging.INFO, logger="fruits.pipelines.reporting.sample"):
        again = sample_results(fewer, changes_between(after, fewer, 4), moved, plan_at(4), counts_of(fewer), FIT,
                               SETTINGS, PROBE)
    assert as_rows(again) == as_rows(drawn_from_every_result(fewer))
    assert again.groupby("label").size().to_dict() == {"Apple": 6, "Kiwi": 2}
    assert "sample of 1 classes cannot be completed from the changes" in caplog.text  # Apple's, read again

    lost = fewer.where(F.col("path") != again["path"].iloc[0])  # a sampled Apple deleted
    assert as_rows(sample_results(lost, changes_between(fewer, lost, 5), again, plan_at(5), counts_of(lost), FIT,
                                  SETTINGS, PROBE)) == as_rows(drawn_from_every_result(lost))


@pytest.mark.parametrize("published", [
    {"plan": plan_at(2)},  # the published sample describes another results version
    {"plan": plan_at(3, ReportingParams(map_max_points=100))},  # drawn with other sampling settings
    {"fit": {"fit_run_id": "fit-2"}},  # the results were projected again by a refit
])
def test_a_sample_that_does_not_describe_the_published_results_is_drawn_again(spark, published: dict) -> None:
    before = results_of(spark, {"Apple": range(10)})
    after = results_of(spark, {"Apple": range(12)})
    moved = sample_results(before.limit(0), changes_between(before, after, 3), drawn_from_every_result(before),
                           published.get("plan", plan_at(3)), counts_of(after), published.get("fit", FIT), SETTINGS,
                           PROBE)
    assert moved.empty  # drawn from the results given, none here


def test_settings_that_do_not_choose_the_images_keep_the_sample_moving(spark) -> None:
    before = results_of(spark, {"Apple": range(10)})
    after = results_of(spark, {"Apple": range(12)})
    moved = sample_results(before.limit(0), changes_between(before, after, 3), drawn_from_every_result(before),
                           plan_at(3, ReportingParams(map_max_points=12, gallery_queries=2)), counts_of(after), FIT,
                           SETTINGS, PROBE)
    assert as_rows(moved) == as_rows(drawn_from_every_result(after))
