"""Featurization: only what the store lacks is featurized; executors read the bytes themselves."""

from __future__ import annotations

import pandas as pd
import pytest

from devkit.paths import MINI_SET
from fruits.datasets.table import TableChanges
from fruits.engines import ModelPayload
from fruits.params import FeaturizationParams
from fruits.pipelines.featurization.nodes import (
    choose_images_to_compare,
    featurize_images,
    partition_count,
    plan_featurization,
    record_featurization,
)
from fruits.progress import Progress
from fruits.rejects import RejectKind
from fruits.tables import FEATURE_STORE, SAMPLE, spark_schema

SETTINGS = FeaturizationParams(batch_size=4)
SOURCES = {"sample": 3, "feature_store": 5}  # the versions of the sample and the store a plan reads
RUN = {"run_id": "r1"}


def planned(now, listing, store, payload: ModelPayload, settings: FeaturizationParams = FeaturizationParams(),
            previous_report: dict | None = None, sources: dict = SOURCES, changes: TableChanges | None = None):
    """The images to featurize and the plan, as the pipeline chains its two nodes."""
    images, comparison = choose_images_to_compare(now, changes, payload, settings, sources, previous_report, RUN)
    return plan_featurization(images, comparison, listing, store, payload, settings)


def sample(spark, *rows: tuple[str, str]):
    return spark.createDataFrame([(f"file:///t/Kiwi/{name}", f"Kiwi/{name}", "Kiwi", key) for name, key in rows],
                                 spark_schema(SAMPLE))


def store_rows(spark, *rows: tuple[str, str, str, str | None]):
    """Feature-store rows (name, change key, fingerprint, reject kind) as the store's Delta table loads them."""
    stamp = pd.Timestamp("2026-11-29", tz="UTC").to_pydatetime()
    data = [(f"file:///t/Kiwi/{name}", f"Kiwi/{name}", "Kiwi", key, fingerprint, None if kind else [1.0], kind, None,
             stamp, "r0") for name, key, fingerprint, kind in rows]
    return spark.createDataFrame(data, spark_schema(FEATURE_STORE))


def test_the_plan_keeps_only_keys_the_store_lacks_for_this_model(spark, small_payload: ModelPayload) -> None:
    now = sample(spark, ("same.jpg", "k1"), ("edited.jpg", "k2"), ("added.jpg", "k1"), ("other model.jpg", "k1"),
                 ("timed out.jpg", "k1"), ("corrupt.jpg", "k1"))
    store = store_rows(spark, ("same.jpg", "k1", "fp1", None), ("edited.jpg", "k1", "fp1", None),
                       ("other model.jpg", "k1", "fp0", None),
                       ("timed out.jpg", "k1", "fp1", RejectKind.UNREADABLE.value),
                       ("corrupt.jpg", "k1", "fp1", RejectKind.CORRUPT_IMAGE.value))
    listing = {"sampled": 6, "sample_changes": {"new": 6, "changed": 0, "left_sample": 0, "gone": 0, "unchanged": 0}}
    todo, plan = planned(now, listing, store, small_payload)
    assert sorted(row.relative_path for row in todo.collect()) == [
        "Kiwi/added.jpg", "Kiwi/edited.jpg", "Kiwi/other model.jpg", "Kiwi/timed out.jpg",
    ]  # a read error is tried again, not a decode error
    assert (plan["to_featurize"], plan["skipped"], plan["fingerprint"], plan["sampled"]) == (4, 2, "fp1", 6)
    assert plan["new"] == 6 and not plan["as_published"]  # how the sample changed comes from the listing
    todo, plan = planned(now, listing, store, small_payload, FeaturizationParams(full_refresh=True))
    assert todo.count() == 6 and plan["full_refresh"]


def test_a_sample_as_published_with_nothing_to_featurize_says_so(spark, small_payload: ModelPayload) -> None:
    now = sample(spark, ("a.jpg", "k1"), ("b.jpg", "k1"))
    store = store_rows(spark, ("a.jpg", "k1", "fp1", None), ("b.jpg", "k1", "fp1", None))
    same = {"sampled": 2, "sample_changes": {"new": 0, "changed": 0, "left_sample": 0, "gone": 0, "unchanged": 2}}
    assert planned(now, same, store, small_payload, FeaturizationParams())[1]["as_published"]
    assert not planned(now, same, store, small_payload,
                                  FeaturizationParams(full_refresh=True))[1]["as_published"]
    one_gone = {**same, "sample_changes": {**same["sample_changes"], "gone": 1}}
    assert not planned(now, one_gone, store, small_payload, FeaturizationParams())[1]["as_published"]
    retried = store_rows(spark, ("a.jpg", "k1", "fp1", None), ("b.jpg", "k1", "fp1", RejectKind.UNREADABLE.value))
    assert not planned(now, same, retried, small_payload, FeaturizationParams())[1]["as_published"]


def test_a_sample_and_store_left_covered_are_not_compared_again(spark, small_payload: ModelPayload) -> None:
    now = sample(spark, ("a.jpg", "k1"), ("b.jpg", "k1"))
    store = store_rows(spark, ("a.jpg", "k1", "fp1", None))  # b is missing: a real comparison finds it
    same = {"sampled": 2, "sample_changes": {"new": 0, "changed": 0, "left_sample": 0, "gone": 0, "unchanged": 2}}
    written = store_rows(spark, ("a.jpg", "k1", "fp1", None)).select("reject_kind")
    report = record_featurization(written, {"to_featurize": 1, "fingerprint": "fp1"}, SOURCES, {"run_id": "r0"})
    assert report["coverage"] == {"basis": {"tables": SOURCES, "fingerprint": "fp1"}, "made_by": "r0"}
    todo, plan = planned(now, same, store, small_payload, previous_report=report)
    assert todo.count() == 0 and plan["to_featurize"] == 0 and plan["as_published"]  # trusted: not compared
    for other in ({**SOURCES, "feature_store": 6}, {**SOURCES, "sample": 4}):  # another version: compared
        assert planned(now, same, store, small_payload, previous_report=report, sources=other)[1]["to_featurize"] == 1
    assert planned(now, same, store, small_payload, FeaturizationParams(full_refresh=True),
                   previous_report=report)[1]["to_featurize"] == 2
    other_model = ModelPayload(blob=b"", fingerprint="fp2", engine="tflite", image_size=224)
    assert planned(now, same, store, other_model, previous_report=report)[1]["to_featurize"] == 2
    unreadable = store_rows(spark, ("b.jpg", "k1", "fp1", RejectKind.UNREADABLE.value)).select("reject_kind")
    retry = record_featurization(unreadable, {"to_featurize": 1, "fingerprint": "fp1"}, SOURCES, {"run_id": "r0"})
    assert retry["coverage"] is None  # an image to try again: the next plan compares


def test_after_a_covered_sample_only_the_images_changed_since_are_compared(spark, small_payload) -> None:
    now = sample(spark, ("a.jpg", "k2"), ("b.jpg", "k1"), ("c.jpg", "k1"))
    store = store_rows(spark, ("a.jpg", "k1", "fp1", None), ("c.jpg", "k1", "fp1", None))  # b is missing
    row = "struct<path: string, relative_path: string, label: string, change_key: string>"
    edited_from = ("file:///t/Kiwi/a.jpg", "Kiwi/a.jpg", "Kiwi", "k1")
    changes = spark.createDataFrame(  # since the published sample (version 3): a edited, c added
        [(image.path, edited_from if image.path.endswith("a.jpg") else None, tuple(image))
         for image in now.collect() if not image.path.endswith("b.jpg")], f"path string, before {row}, after {row}")
    report = record_featurization(store.select("reject_kind"), {"to_featurize": 2, "fingerprint": "fp1"}, SOURCES,
                                  {"run_id": "r0"})  # the published sample (version 3) covered
    listing = {"sampled": 3, "sample_changes": {"new": 1, "changed": 1, "left_sample": 0, "gone": 0, "unchanged": 1}}
    sources = {**SOURCES, "sample": 4}
    todo, plan = planned(now, listing, store, small_payload, previous_report=report, sources=sources,
                         changes=TableChanges(3, 4, changes))
    assert [row.relative_path for row in todo.collect()] == ["Kiwi/a.jpg"]  # b, covered before, is not compared
    assert plan["to_featurize"] == 1
    for since in (2, None):  # changes since another version, or none recorded: every image is compared
        recorded = None if since is None else TableChanges(since, 4, changes)
        todo, _ = planned(now, listing, store, small_payload, previous_report=report, sources=sources,
                          changes=recorded)
        assert sorted(row.relative_path for row in todo.collect()) == ["Kiwi/a.jpg", "Kiwi/b.jpg"]


@pytest.mark.parametrize(("images", "cores", "expected"), [(80, 2, 4), (20_622, 2, 22), (3, 8, 3), (0, 2, 1)])
def test_partitions_keep_cores_busy_and_bound_task_size(images: int, cores: int, expected: int) -> None:
    assert partition_count(images, cores, FeaturizationParams(tasks_per_core=2, max_images_per_task=1000)) == expected


def test_the_udf_reads_odd_names_in_the_executors_and_reports_progress(spark, small_payload, tmp_path) -> None:
    jpeg = (MINI_SET / "Kiwi" / "3_100.jpg").read_bytes()
    names = ["12:30:00.jpg", "_x.jpg", "a%20b #1?.jpg", "été 🍓.jpg", ".hidden.jpg", "x" * 200 + ".jpg",
             "apple[1].jpg", "b*.jpg", "empty.jpg"]
    for name in names:
        (tmp_path / name).write_bytes(b"" if name == "empty.jpg" else jpeg)
    todo = spark.createDataFrame(pd.DataFrame({"path": [f"file://{tmp_path}/{name}" for name in names],
                                               "relative_path": names, "label": "Kiwi", "change_key": "k"}))
    progress = Progress()
    change = featurize_images(todo, {"to_featurize": 9}, small_payload, SETTINGS, progress)
    rows = change.add.collect()
    kinds = {row.relative_path: (row.reject_kind, row.reject_detail) for row in rows}
    assert kinds == {**dict.fromkeys(names[:-1], (None, None)), "empty.jpg": ("empty file", None)}
    assert {len(row.features) for row in rows if row.reject_kind is None} == {1280}
    assert {row.fingerprint for row in rows} == {"fp1"}
    assert progress.expected.total == progress.expected.counter.value == 9
    written = change.add.select("reject_kind")
    report = record_featurization(written, {"to_featurize": 9, "fingerprint": "fp1"}, SOURCES, RUN)
    assert (report["featurized"], report["rejected"], report["rejected_by_kind"]) == (8, 1, {"empty file": 1})
    assert report["images_inferred"] == 8
    assert report["cores"] == written.sparkSession.sparkContext.defaultParallelism  # what a cloud rate divides by
    with pytest.raises(ValueError, match="10 images were to be featurized, but the feature store holds 9 rows"):
        record_featurization(written, {"to_featurize": 10, "fingerprint": "fp1"}, SOURCES, RUN)


def test_a_resumed_run_counts_what_its_interrupted_attempt_featurized(spark) -> None:
    # the interrupted attempt wrote two rows; the resumed attempt's plan found them in the store: nothing to do
    this_run = store_rows(spark, ("a.jpg", "k1", "fp1", None),
                          ("b.jpg", "k1", "fp1", RejectKind.EMPTY_FILE.value)).select("reject_kind")
    plan = {"to_featurize": 0, "sampled": 3, "skipped": 3, "fingerprint": "fp1"}
    resumed = record_featurization(this_run, plan, SOURCES, {**RUN, "resumed": True})
    assert (resumed["featurized"], resumed["rejected"], resumed["to_featurize"], resumed["skipped"]) == (1, 1, 2, 1)
    assert record_featurization(this_run.limit(0), plan, SOURCES, {**RUN, "resumed": True})["to_featurize"] == 0
    with pytest.raises(ValueError, match="3 images were to be featurized, but the feature store holds 2 rows"):
        record_featurization(this_run, {**plan, "to_featurize": 3}, SOURCES, {**RUN, "resumed": True})


def test_nothing_to_featurize_starts_no_spark_job(spark, small_payload) -> None:
    tracker = spark.sparkContext.statusTracker()
    jobs = tracker.getJobIdsForGroup(None)
    todo = sample(spark)
    change = featurize_images(todo, {"to_featurize": 0}, small_payload, SETTINGS, Progress())
    assert change.add is None and not change.replace
    report = record_featurization(store_rows(spark).select("reject_kind"), {"to_featurize": 0, "fingerprint": "fp1"},
                                  SOURCES, RUN)
    assert (report["featurized"], report["rejected"], report["coverage"]["made_by"]) == (0, 0, "r1")
    assert tracker.getJobIdsForGroup(None) == jobs
