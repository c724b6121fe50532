"""PCA: k from the explained variance; refitted only when the published model cannot be reused."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from pyspark.ml.feature import PCA
from pyspark.ml.linalg import Vectors
from pyspark.sql import DataFrame

from fruits.datasets.run import UNCHANGED
from fruits.datasets.table import TableChanges
from fruits.params import PcaParams
from fruits.pipelines.pca.nodes import (
    FIT_SETTINGS,
    changes_since_fit,
    choose_k,
    find_changed_images,
    fit_pca,
    fit_rows,
    principal_components,
    refit_reason,
    spark_pca_model,
)
from fruits.tables import FEATURE_STORE, SAMPLE, featurized_keys, spark_schema
from tests.support.tables import RUN_INFO, STAMP, report, store_of


@pytest.mark.parametrize(
    ("variance", "target", "fixed", "expected"),
    [
        ([0.5, 0.3, 0.15, 0.05], 0.95, None, 3),
        ([0.5, 0.3, 0.15, 0.05], 0.8, None, 2),
        ([0.5, 0.3, 0.15, 0.05], 1.0, None, 4),
        ([0.5, 0.3], 0.95, None, 2),  # target never reached: keep all fitted components
        ([0.5, 0.3, 0.15, 0.05], 0.95, 1, 1),
    ],
)
def test_choose_k(variance, target, fixed, expected):
    assert choose_k(np.array(variance), target, fixed) == expected


@pytest.fixture(scope="module")
def low_rank(spark):
    """60 vectors of dimension 12 living in a 3-d subspace (+ tiny noise), plus one rejected image."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 12))
    return store_of(spark, rng.normal(size=(60, 3)) * [10.0, 5.0, 2.0] @ basis + rng.normal(scale=1e-3, size=(60, 12)))


def test_pca_finds_the_intrinsic_dimension_and_records_the_fit(low_rank):
    model, components, curve, record, images = fit_pca(*low_rank, report(), None, None, None,
                                                       PcaParams(variance_target=0.999, max_components=10), RUN_INFO)
    assert len(curve) == 10
    assert curve["cumulative"].iloc[2] > 0.999 > curve["cumulative"].iloc[1]
    assert model.stages[-1].getIndices() == [0, 1, 2]
    assert components.shape == (12, 3) and np.array_equal(components, model.stages[0].pc.toArray()[:, :3])
    assert record["refit"] and record["reason"] == "no published PCA model yet"
    assert (record["fitted_on_images"], record["k"], record["fingerprint"]) == (60, 3, "fp")
    assert record["fit_run_id"] == "r1"  # the results rows it projects carry it
    assert record["raw_images"] == "/t" and images.replace
    assert sorted(row.path for row in images.add.collect()) == sorted(f"img{i}" for i in range(60))


def test_the_published_model_is_reused_until_enough_images_changed(spark, low_rank):
    settings = PcaParams(variance_target=0.999, max_components=10, refit_growth=0.25)
    vectors = np.asarray([row.features for row in low_rank[0].orderBy("path").collect() if row.features is not None])
    *_, first, fitted = fit_pca(*store_of(spark, vectors[:40]), report(), None, None, None, settings, RUN_INFO)
    fitted = fitted.add
    assert first["fitted_on_images"] == 40
    ten_more = store_of(spark, vectors[:50], later=10)  # 10 images featurized after the fit
    model, components, curve, record, images = fit_pca(*ten_more, report(), first, fitted, None, settings, RUN_INFO)
    assert (model, components, curve, images) == (UNCHANGED, UNCHANGED, UNCHANGED, UNCHANGED)
    assert not record["refit"] and record["changes_since_fit"] == {"added": 10, "changed": 0, "left": 0}
    assert record["k"] == first["k"]
    fifteen_more = store_of(spark, vectors[:60], later=15)
    *_, refitted, _ = fit_pca(*fifteen_more, report(), record, fitted, None, settings, RUN_INFO)
    assert refitted["refit"] and "20 images added, 0 changed and 0 left since the fit on 40" in refitted["reason"]


def test_a_run_as_published_reuses_the_published_counts_and_still_refits_on_new_settings(spark, low_rank):
    settings = PcaParams(variance_target=0.999, max_components=10, refit_growth=0.25)
    vectors = np.asarray([row.features for row in low_rank[0].orderBy("path").collect() if row.features is not None])
    *_, first, fitted = fit_pca(*store_of(spark, vectors[:40]), report(), None, None, None, settings, RUN_INFO)
    published = {**first, "refit": False, "changes_since_fit": {"added": 5, "changed": 0, "left": 0}}
    store, sample = store_of(spark, vectors[:45], later=5)
    *_, record, images = fit_pca(store, sample, report(as_published=True), published, None, None, settings, RUN_INFO)
    assert not record["refit"] and images is UNCHANGED  # the fit's image list was not even needed
    assert record["changes_since_fit"] == {"added": 5, "changed": 0, "left": 0}
    other = PcaParams(variance_target=0.99, max_components=10, refit_growth=0.25)
    *_, refitted, _ = fit_pca(store, sample, report(as_published=True), published, None, None, other, RUN_INFO)
    assert refitted["refit"] and refitted["reason"] == "PCA settings changed (pca.variance_target)"


def test_images_that_left_count_toward_a_refit_and_the_record_never_contradicts_the_sample(spark, low_rank):
    """The fit on 48 images is not reused for a sample of which most have gone: what left counts as what came."""
    settings = PcaParams(variance_target=0.999, max_components=10, refit_growth=0.25)
    vectors = np.asarray([row.features for row in low_rank[0].orderBy("path").collect() if row.features is not None])
    *_, first, fitted = fit_pca(*store_of(spark, vectors[:48]), report(), None, None, None, settings, RUN_INFO)
    store, sample = store_of(spark, vectors[:48])
    fewer = sample.where(sample["path"].isin([f"img{i}" for i in range(30)]))  # 18 images gone, nothing added
    *_, refitted, images = fit_pca(store, fewer, report(), first, fitted.add, None, settings, RUN_INFO)
    assert refitted["refit"] and refitted["reason"].startswith("0 images added, 0 changed and 18 left since the "
                                                               "fit on 48")
    assert refitted["fitted_on_images"] == images.add.count() == 30


def test_another_input_folder_refits_whatever_the_counts(low_rank):
    settings = PcaParams(variance_target=0.999, max_components=10)
    *_, first, fitted = fit_pca(*low_rank, report(), None, None, None, settings, RUN_INFO)
    elsewhere = {**RUN_INFO, "raw_images": "/other"}
    *_, record, _ = fit_pca(*low_rank, report(), first, fitted.add, None, settings, elsewhere)
    assert record["refit"] and record["reason"] == "the input folder changed (/t -> /other)"


def test_changes_since_the_fit_are_counted_by_path(spark) -> None:
    fitted = spark.createDataFrame([("a", "1"), ("b", "1"), ("c", "1")], "path string, change_key string")
    now = spark.createDataFrame([("b", "1"), ("c", "2"), ("d", "1")], "path string, change_key string")
    assert changes_since_fit(fitted, now) == {"added": 1, "changed": 1, "left": 1}


def test_the_count_since_the_fit_is_moved_by_the_images_changed_since_it_was_counted(spark) -> None:
    """Images added, changed, deleted and retried since the published count move it to what comparing every image
    with the fit's list counts; a count made at other versions, or for another model, is not moved."""
    def store(rows: list[tuple[str, str, str | None, str]]) -> DataFrame:
        return spark.createDataFrame(
            [(path, f"x/{path}", "x", key, "fp", None if kind else [float(ord(path)), 1.0], kind, None,
              STAMP + timedelta(days=run == "r1"), run)
             for path, key, kind, run in rows], spark_schema(FEATURE_STORE))

    def sample(rows: list[tuple[str, str]]) -> DataFrame:
        return spark.createDataFrame([(path, f"x/{path}", "x", key) for path, key in rows], spark_schema(SAMPLE))

    fitted = spark.createDataFrame([("a", "1"), ("b", "1"), ("c", "1")], "path string, change_key string")
    published_store = store([("a", "1", None, "r0"), ("b", "1", None, "r0"), ("c", "2", None, "r0"),
                             ("d", "1", None, "r0"), ("f", "1", "unreadable", "r0")])
    published_sample = sample([("a", "1"), ("b", "1"), ("c", "2"), ("d", "1"), ("f", "1")])
    this_run = store([("a", "2", None, "r1"), ("e", "1", None, "r1"), ("f", "1", None, "r1")])  # f: retried
    now_store, now_sample = published_store.unionByName(this_run), sample(
        [("a", "2"), ("c", "2"), ("d", "1"), ("e", "1"), ("f", "1")])  # a changed, b deleted, e new
    sample_changes = TableChanges(3, 4, spark.createDataFrame(  # as the sample's change feed records them
        [("a", ("1",), ("2",)), ("b", ("1",), None), ("e", None, ("1",))],
        "path string, before struct<change_key: string>, after struct<change_key: string>"))
    published = {"sample": 3, "feature_store": 7}
    counted = changes_since_fit(fitted, featurized_keys(published_store, published_sample, "fp"))
    assert counted == {"added": 1, "changed": 1, "left": 0}  # d added, c changed
    settings = PcaParams(refit_growth=10.0)
    previous = {**fit_pca(*store_of(spark, np.eye(3)), report(), None, None, None, settings, RUN_INFO)[3],
                "changes_since_fit": counted, "counted_at": published, "fitted_on_images": 3}
    now = {"sample": 4, "feature_store": 8}

    changed = find_changed_images(sample_changes, this_run, now_store, report(), now, published, RUN_INFO)
    assert sorted(row.path for row in changed.paths.collect()) == ["a", "b", "e", "f"]

    def count(previous_record: dict) -> dict:
        return fit_pca(now_store, now_sample, report(), previous_record, fitted, changed, settings, RUN_INFO)[3]

    expected = changes_since_fit(fitted, featurized_keys(now_store, now_sample, "fp"))
    assert expected == {"added": 3, "changed": 2, "left": 1}  # d, e, f added; a, c changed; b left
    record = count(previous)
    assert record["changes_since_fit"] == expected and record["counted_at"] == now
    assert record["counted_by"] == "the published count, moved by the 4 images changed since"
    wrong = {"added": 90, "changed": 0, "left": 0}  # were it moved, the count would show it
    assert count({**previous, "changes_since_fit": wrong, "counted_at": {"sample": 2, "feature_store": 7}})[
        "changes_since_fit"] == expected  # counted at other versions: compared whole
    refitted = count({**previous, "changes_since_fit": wrong, "fingerprint": "old"})
    assert refitted["refit"] and refitted["reason"].startswith("the model fingerprint changed")
    assert find_changed_images(sample_changes, this_run, now_store, report(as_published=True), published,
                               published, RUN_INFO).paths is None


def test_the_changed_images_keys_as_published_are_the_stores_rows_less_this_runs(spark):
    """Within a run the store only grows, by the run's own rows; rows written before rows named their run (no
    ``run_id``) are published ones."""
    def row(path: str, key: str, run: str | None) -> tuple:
        return (path, f"x/{path}", "x", key, "fp", [1.0, 0.0], None, None, STAMP + timedelta(days=run == "r1"), run)

    store = spark.createDataFrame([row("a", "1", None), row("b", "1", "r0"), row("a", "2", "r1"), row("c", "1", "r1")],
                                  spark_schema(FEATURE_STORE))
    this_run = store.where("run_id = 'r1'")
    sample_changes = TableChanges(3, 4, spark.createDataFrame(  # a and b changed, c new
        [("a", ("1",), ("2",)), ("b", ("1",), ("2",)), ("c", None, ("1",))],
        "path string, before struct<change_key: string>, after struct<change_key: string>"))
    changed = find_changed_images(sample_changes, this_run, store, report(), {"sample": 4, "feature_store": 8},
                                  {"sample": 3, "feature_store": 7}, RUN_INFO)
    assert sorted((row.path, row.change_key) for row in changed.before.collect()) == [("a", "1"), ("b", "1")]
    assert sorted((row.path, row.change_key) for row in changed.after.collect()) == [("a", "2"), ("c", "1")]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"fingerprint": "other"}, "the model fingerprint changed (fp -> other)"),
        ({"settings": PcaParams(variance_target=0.9)}, "PCA settings changed (pca.variance_target)"),
        ({"settings": PcaParams(refit=True)}, "a refit was asked for (pca.refit)"),
        ({"full_refresh": True}, "a full refresh was asked for"),
        ({"left": 16}, "10 images added, 0 changed and 16 left since the fit on 100: 26 in all, more than "
                       "pca.refit_growth = 25%"),
        ({"raw_images": "/other"}, "the input folder changed (/t -> /other)"),
    ],
)
def test_refit_reasons(change: dict, reason: str) -> None:
    settings = PcaParams()
    previous = {"fingerprint": "fp", "settings": {name: getattr(settings, name) for name in FIT_SETTINGS},
                "fitted_on_images": 100, "fit_run_id": "r0", "raw_images": "/t"}
    within = {"added": 10, "changed": 0, "left": 15}
    assert refit_reason(previous, "fp", within, False, settings, "/t") is None
    found = refit_reason(previous, change.get("fingerprint", "fp"), {**within, "left": change.get("left", 15)},
                         change.get("full_refresh", False), change.get("settings", settings),
                         change.get("raw_images", "/t"))
    assert found is not None and found.startswith(reason)
    unnamed = {key: value for key, value in previous.items() if key != "fit_run_id"}
    assert refit_reason(unnamed, "fp", within, False, settings, "/t").startswith(
        "the published PCA model does not name its fit")
    assert refit_reason(previous, "fp", None, False, settings, "/t").startswith(
        "the published PCA model does not list the images it was fitted on")


def test_fewer_than_two_featurized_images_is_a_clear_error(spark):
    with pytest.raises(ValueError, match="PCA needs at least 2 featurized images, got 1"):
        fit_pca(*store_of(spark, np.ones((1, 4))), report(), None, None, None, PcaParams(), RUN_INFO)


def test_fixed_k_out_of_range_is_refused_before_fitting(low_rank):
    with pytest.raises(ValueError, match="pca.n_components must be between 1 and 12, got 13"):
        fit_pca(*low_rank, report(), None, None, None, PcaParams(n_components=13), RUN_INFO)


def test_the_fit_sample_is_capped_and_seeded(spark) -> None:
    keys = spark.createDataFrame([(f"img{i}", "k") for i in range(5000)], "path string, change_key string")

    def paths(frame) -> list[str]:
        return [row.path for row in frame.collect()]

    sample = paths(fit_rows(keys.repartition(4), 5000, 500, seed=1))
    assert len(sample) == 500 == len(set(sample))
    assert sample == paths(fit_rows(keys.repartition(3), 5000, 500, seed=1))  # whatever the partitioning
    assert sample != paths(fit_rows(keys, 5000, 500, seed=2))
    assert fit_rows(keys, 5000, 5000, seed=1) is keys and fit_rows(keys, 5000, None, seed=1) is keys


def test_the_fit_equals_spark_ml_pca_fit(spark) -> None:
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(400, 16)) * np.geomspace(10, 0.1, 16) + 3
    frame = spark.createDataFrame([(Vectors.dense(vector),) for vector in vectors], ["feature_vector"])
    reference = PCA(k=6, inputCol="feature_vector", outputCol="p").fit(frame)
    components, explained = principal_components(vectors, 6)
    assert np.allclose(explained, reference.explainedVariance.toArray(), atol=1e-10)
    assert np.allclose(np.abs(components), np.abs(reference.pc.toArray()), atol=1e-8)  # signs are arbitrary
    model = spark_pca_model(spark, components, explained)
    assert model.getK() == 6 and np.allclose(model.pc.toArray(), components)


def test_pca_on_a_capped_sample_still_finds_the_subspace(low_rank):
    settings = PcaParams(variance_target=0.999, max_components=10, max_fit_rows=30, seed=3)
    model, *_, record, _ = fit_pca(*low_rank, report(), None, None, None, settings, RUN_INFO)
    assert model.stages[-1].getIndices() == [0, 1, 2]
    assert (record["fit_rows"], record["fitted_on_images"]) == (30, 60)
