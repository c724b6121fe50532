"""Output: results changed by what changed (projected with the model's components); rejects with their kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from pyspark.ml.functions import array_to_vector, vector_to_array
from pyspark.sql import functions as F

from fruits.changes import ChangedImages
from fruits.datasets.run import UNCHANGED
from fruits.params import PcaParams
from fruits.pipelines.output.nodes import account_for_files, collect_rejects, project, update_results
from fruits.pipelines.pca.nodes import FEATURE_VECTOR, PCA_VECTOR, fit_pca
from fruits.tables import FEATURE_STORE, RESULTS, spark_schema
from tests.support.tables import RUN_INFO, STAMP, report, store_of


def test_projection_equals_the_saved_spark_ml_model(spark):
    rng = np.random.default_rng(2)
    store, sample = store_of(spark, rng.normal(size=(300, 16)) * np.geomspace(10, 0.1, 16) + 1, rejected=0)
    settings = PcaParams(variance_target=0.8, max_components=12)
    model, components, *_ = fit_pca(store, sample, report(), None, None, None, settings, RUN_INFO)
    projected = project(store.repartition(3), components, "r1").collect()
    ours = {row.path: np.array(row.pca_features) for row in projected}
    assert {row.pca_run_id for row in projected} == {"r1"}
    vectors = store.where("reject_kind is null")
    vectors = vectors.withColumn(FEATURE_VECTOR, array_to_vector("features"))  # as README says
    spark_ml = model.transform(vectors).select("path", vector_to_array(PCA_VECTOR).alias("p"))
    expected = {row.path: np.array(row.p) for row in spark_ml.collect()}
    assert ours.keys() == expected.keys() and len(ours) == 300
    assert 1 < len(ours["img0"]) < 12
    difference = max(np.abs(ours[path] - expected[path]).max() for path in ours)
    assert difference < 1e-5 * max(np.abs(vector).max() for vector in expected.values())


# The sample's changes since the published run not known: every featurized image is compared.
NOT_KNOWN = ChangedImages({"sample": 1, "feature_store": 1}, {"sample": 2, "feature_store": 2})


def results_of(spark, *rows: tuple[str, str, str]):
    """Results rows (path, change key, the run whose fit projected them)."""
    return spark.createDataFrame([(path, "a", key, "fp", [0.0], run) for path, key, run in rows],
                                 spark_schema(RESULTS))


def test_results_change_by_what_they_lack_and_what_is_no_longer_live(spark):
    store, sample = store_of(spark, np.eye(6)[:5], rejected=1)
    components = np.eye(6)[:, :2]
    results_index = results_of(spark, ("img0", "k", "r1"), ("img1", "old", "r1"), ("gone", "k", "r1"),
                               ("img2", "k", "killed"))
    fit = {"refit": False, "fit_run_id": "r1"}
    change, basis = update_results(store, results_index, sample, components, fit, report(), NOT_KNOWN, None)
    assert basis == {"tables": NOT_KNOWN.until, "fit_run_id": "r1"}
    assert sorted(row.path for row in change.add.collect()) == ["img1", "img2", "img3", "img4"]
    # the changed image's old row goes (its new row comes), and so does a row another fit projected
    assert sorted(row.path for row in change.remove.collect()) == ["gone", "img1", "img2"]
    assert not change.replace
    complete = results_of(spark, *((f"img{i}", "k", "r1") for i in range(5)))
    unchanged, _ = update_results(store, complete, sample, components, fit, report(), NOT_KNOWN, None)
    assert unchanged.add is None and unchanged.remove is None
    # a run as published keeps the published results without comparing (the index given here lacks rows)
    published = {"tables": NOT_KNOWN.since, "fit_run_id": "r1"}
    assert update_results(store, results_index, sample, components, fit, report(as_published=True), NOT_KNOWN,
                          published) == (UNCHANGED, published)  # what they describe is unchanged too


def test_results_made_for_the_published_versions_compare_only_the_images_changed_since(spark):
    store, sample = store_of(spark, np.eye(6)[:5], rejected=1)
    # published: img4 came since, img1 changed since (its row has the old key); a stale row outside the changes,
    # which only a comparison of every image finds
    index = results_of(spark, ("img0", "k", "r1"), ("img1", "old", "r1"), ("img2", "k", "r1"), ("img3", "k", "r1"),
                       ("stale", "k", "r1"))
    paths = spark.createDataFrame([("img1", "old", "k"), ("img4", None, "k")],
                                  "path string, sampled_then string, sampled_now string")
    changed = ChangedImages(NOT_KNOWN.since, NOT_KNOWN.until, paths)
    changed = replace(changed, after=changed.featurized_in(store, "fp"))  # as find_changed_images keeps them
    fit = {"refit": False, "fit_run_id": "r1"}
    published = {"tables": changed.since, "fit_run_id": "r1"}
    change, basis = update_results(store, index, sample, np.eye(6)[:, :2], fit, report(), changed, published)
    assert sorted(row.path for row in change.add.collect()) == ["img1", "img4"]
    assert [row.path for row in change.remove.collect()] == ["img1"]  # the stale row is not even read
    assert basis == {"tables": changed.until, "fit_run_id": "r1"}
    for made_otherwise in ({**published, "fit_run_id": "r0"}, {**published, "tables": {"sample": 0}}, None):
        change, _ = update_results(store, index, sample, np.eye(6)[:, :2], fit, report(), changed, made_otherwise)
        assert sorted(row.path for row in change.remove.collect()) == ["img1", "stale"]  # every image compared


def test_a_refit_replaces_all_results(spark):
    store, sample = store_of(spark, np.eye(6)[:5], rejected=1)
    already = results_of(spark, *((f"img{i}", "k", "r1") for i in range(5)))
    for as_published in (False, True):  # a refit of the same sample (new PCA settings) too
        change, _ = update_results(store, already, sample, np.eye(6)[:, :2], {"refit": True, "fit_run_id": "r2"},
                                   report(as_published=as_published), NOT_KNOWN, None)
        assert change.replace and change.add.count() == 5
    assert {len(row.pca_features) for row in change.add.collect()} == {2}


def test_results_that_copied_the_features_are_projected_again_without_them(spark):
    store, sample = store_of(spark, np.eye(6)[:5], rejected=1)
    complete = results_of(spark, *((f"img{i}", "k", "r1") for i in range(5)))
    former = complete.select("path", "label", "change_key", F.array(F.lit(1.0)).alias("features"), "pca_features",
                             "pca_run_id")
    change, _ = update_results(store, former, sample, np.eye(6)[:, :2], {"refit": False, "fit_run_id": "r1"},
                               report(as_published=True), NOT_KNOWN, None)
    assert change.replace and change.add.columns == RESULTS.names and change.add.count() == 5


def test_rejects_are_the_unclassified_files_and_the_images_the_network_could_not_take(spark):
    store, sample = store_of(spark, np.eye(3), rejected=2)
    day_before = STAMP - timedelta(days=1)
    not_now = spark.createDataFrame([  # a read error tried again since, a reject left out of the sample, another model
        ("img0", "a/img0", "a", "k", "fp", None, "read error", "timeout", day_before, "r0"),
        ("out", "a/out", "a", "k", "fp", None, "empty file", None, STAMP, "r0"),
        ("img1", "a/img1", "a", "k", "other", None, "empty file", None, STAMP, "r0"),
    ], spark_schema(FEATURE_STORE))
    store = store.unionByName(not_now)
    manifest = spark.createDataFrame([("file:///t/root.jpg", None, "rejected", "not in a class folder"),
                                      ("file:///t/a/ok.jpg", "a", "image", "")],
                                     "path string, label string, status string, detail string")
    sources = {"listing": 2, "sample": 1, "feature_store": 3}
    change, plan = collect_rejects(manifest, store, sample, report(), sources, None, RUN_INFO)
    assert [row.asDict() for row in change.sync.orderBy("path").collect()] == [
        {"path": "bad0", "label": "a", "reject_kind": "empty file", "reject_detail": None},
        {"path": "bad1", "label": "a", "reject_kind": "empty file", "reject_detail": None},
        {"path": "file:///t/root.jpg", "label": None, "reject_kind": "not in a class folder", "reject_detail": None},
    ]
    assert not plan["reused"]
    rerun = {**RUN_INFO, "run_id": "r2"}  # nothing they are made from changed: nothing is read
    assert collect_rejects(None, None, None, report(), sources, plan, rerun) == (UNCHANGED, {**plan, "reused": True})
    for other_sources, fingerprint in (({**sources, "listing": 3}, "fp"), (sources, "other model")):
        change, replan = collect_rejects(manifest, store, sample, report(fingerprint), other_sources, plan, rerun)
        assert not replan["reused"] and change.sync is not None


def test_every_listed_file_is_accounted_for_or_nothing_is_published() -> None:
    listing = {"listed": 7, "ignored": 1, "ignored_by_kind": {"os metadata (.DS_Store)": 1}, "listing_rejected": 1,
               "images": 5}
    featurization = {"sampled": 4, "skipped": 1, "featurized": 2, "rejected": 1}
    counts = account_for_files(listing, featurization, {"raw_images": "/t", "sampling": {"strategy": "all"}})
    assert (counts["listed"], counts["ignored"], counts["not_sampled"], counts["rejected"]) == (7, 1, 1, 2)
    assert counts["ignored_by_kind"] == {"os metadata (.DS_Store)": 1}
    with pytest.raises(ValueError, match="7 files were listed but 6 are accounted for .* nothing is published"):
        account_for_files(listing, {**featurization, "featurized": 1}, {"raw_images": "/t", "sampling": {}})
