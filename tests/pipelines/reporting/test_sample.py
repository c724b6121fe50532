"""The report's sample moved by the results' changes is the sample drawn from every result, and reads the results
only for a class that lost sampled images it cannot replace."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fruits.datasets.table import TableChanges
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.counts import report_basis
from fruits.pipelines.reporting.sample import sample_results
from fruits.tables import RESULTS, spark_schema

SETTINGS, PROBE = ReportingParams(map_max_points=1), ProbeParams(max_train_per_class=2)  # 4 images per class
FIT = {"fit_run_id": "fit-1"}


def results_of(spark, images: dict[str, range], edited: frozenset[str] = frozenset()) -> DataFrame:
    """Results rows of ``images`` (per class, their numbers); the ``edited`` paths have other features."""
    rows = []
    for label, numbers in images.items():
        for number in numbers:
            path = f"s3://photos/{label}/IMG_{number}.jpg"
            rows.append((path, label, "k2" if path in edited else "k1", "fp", [float(number), float(path in edited)],
                         "fit-1"))
    return spark.createDataFrame(rows, spark_schema(RESULTS))


def changes_between(before: DataFrame, after: DataFrame, since: int) -> TableChanges:
    """What the results' change feed gives from ``before`` (version ``since``) to ``after``."""
    def ends(rows: DataFrame, name: str) -> DataFrame:
        return rows.select("path", F.struct(*RESULTS.names).alias(name))

    rows = ends(before, "before").join(ends(after, "after"), "path", "full_outer")
    return TableChanges(since, since + 1, rows.where(~F.col("before").eqNullSafe(F.col("after"))))


def counts_of(results: DataFrame) -> pd.DataFrame:
    return results.groupBy("label").count().toPandas().rename(columns={"count": "featurized"})


def drawn_from_every_result(results: DataFrame) -> pd.DataFrame:
    return sample_results(results, None, None, None, counts_of(results), FIT, SETTINGS, PROBE)


def plan_at(version: int) -> dict:
    return {"basis": report_basis({"results": version, "rejects": 1}, SETTINGS, PROBE)}


def same(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    return left["path"].tolist() == right["path"].tolist() and left["draw"].tolist() == right["draw"].tolist()


def test_a_moved_sample_is_the_sample_drawn_from_every_result(spark, caplog: pytest.LogCaptureFixture) -> None:
    before = results_of(spark, {"Apple": range(30), "Kiwi": range(3), "Lemon": range(5)})
    published = drawn_from_every_result(before)
    assert published.groupby("label").size().to_dict() == {"Apple": 4, "Kiwi": 3, "Lemon": 4}
    unsampled = sorted(set(before.where("label = 'Apple'").toPandas()["path"]) - set(published["path"]))
    after = results_of(spark, {"Apple": range(50), "Kiwi": range(4), "Mango": range(6)},  # Lemon gone, Mango new
                       edited=frozenset(unsampled[:1])).where(F.col("path") != unsampled[1])
    no_results = spark.createDataFrame([], spark_schema(RESULTS))  # nothing to redraw: the results are not read
    moved = sample_results(no_results, changes_between(before, after, 3), published, plan_at(3), counts_of(after),
                           FIT, SETTINGS, PROBE)
    assert same(moved, drawn_from_every_result(after))
    assert moved.groupby("label").size().to_dict() == {"Apple": 4, "Kiwi": 4, "Mango": 4}

    lost = results_of(spark, {"Apple": range(60), "Kiwi": range(4), "Mango": range(6)}).where(
        ~F.col("path").isin(moved["path"].iloc[0], moved["path"].iloc[4]))  # a sampled Apple and Kiwi deleted
    with caplog.at_level(logging.INFO, logger="fruits.pipelines.reporting.sample"):
        again = sample_results(lost, changes_between(after, lost, 4), moved, plan_at(4), counts_of(lost), FIT,
                               SETTINGS, PROBE)
    assert same(again, drawn_from_every_result(lost))
    assert "1 classes lost sampled images the changes do not replace: drawn again from the results (Apple)" in \
        caplog.text  # Kiwi was held whole: what is left of it is its sample


@pytest.mark.parametrize("published", [
    {"plan": plan_at(2)},  # the published sample describes another results version
    {"plan": {"basis": report_basis({"results": 3, "rejects": 1}, SETTINGS, ProbeParams(max_train_per_class=3))}},
    {"fit": {"fit_run_id": "fit-2"}},  # the results were projected again by a refit
])
def test_a_sample_that_does_not_describe_the_published_results_is_drawn_again(spark, published: dict) -> None:
    before = results_of(spark, {"Apple": range(10)})
    after = results_of(spark, {"Apple": range(12)})
    moved = sample_results(before.limit(0), changes_between(before, after, 3), drawn_from_every_result(before),
                           published.get("plan", plan_at(3)), counts_of(after), published.get("fit", FIT), SETTINGS,
                           PROBE)
    assert moved.empty  # drawn from the results given, none here
