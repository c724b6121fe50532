"""Featurization: only what the store lacks is featurized; executors read the bytes themselves."""

from __future__ import annotations

import pandas as pd
import pytest

from fruits.engines import ModelPayload
from fruits.params import FeaturizationParams
from fruits.pipelines.featurization.nodes import (
    compare_samples,
    featurize_images,
    partition_count,
    plan_featurization,
    record_featurization,
)
from fruits.rejects import RejectKind
from tests.support.paths import MINI_SET

SETTINGS = FeaturizationParams(batch_size=4)


def sample(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame([(f"file:///t/Kiwi/{name}", f"Kiwi/{name}", "Kiwi", key) for name, key in rows],
                        columns=["path", "relative_path", "label", "change_key"])


def store_index(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([(f"file:///t/Kiwi/{name}", key, fingerprint, None, pd.Timestamp("2026-11-29", tz="UTC"))
                         for name, key, fingerprint in rows],
                        columns=["path", "change_key", "fingerprint", "reject_kind", "featurized_at"])


def test_samples_are_compared_by_uri_and_change_key() -> None:
    now = sample(("same.jpg", "k1"), ("edited.jpg", "k2"), ("added.jpg", "k1"))
    before = sample(("same.jpg", "k1"), ("edited.jpg", "k1"), ("removed.jpg", "k1"))
    assert compare_samples(now, before) == {"new": 1, "changed": 1, "deleted": 1, "unchanged": 1}
    assert compare_samples(now, None) == {"new": 3, "changed": 0, "deleted": 0, "unchanged": 0}


def manifest_of(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(size=1, status="image", detail="")


def test_the_plan_keeps_only_keys_the_store_lacks_for_this_model(small_payload: ModelPayload) -> None:
    now = sample(("same.jpg", "k1"), ("edited.jpg", "k2"), ("added.jpg", "k1"), ("other model.jpg", "k1"),
                 ("timed out.jpg", "k1"), ("corrupt.jpg", "k1"))
    index = store_index(("same.jpg", "k1", "fp1"), ("edited.jpg", "k1", "fp1"), ("other model.jpg", "k1", "fp0"),
                        ("timed out.jpg", "k1", "fp1"), ("corrupt.jpg", "k1", "fp1"))
    index.loc[index["path"].str.endswith("timed out.jpg"), "reject_kind"] = RejectKind.UNREADABLE.value
    index.loc[index["path"].str.endswith("corrupt.jpg"), "reject_kind"] = RejectKind.CORRUPT_IMAGE.value
    todo, plan = plan_featurization(manifest_of(now), now, None, index, small_payload, FeaturizationParams())
    assert sorted(todo["relative_path"]) == ["Kiwi/added.jpg", "Kiwi/edited.jpg", "Kiwi/other model.jpg",
                                             "Kiwi/timed out.jpg"]  # a read error is tried again, not a decode error
    assert (plan["to_featurize"], plan["skipped"], plan["fingerprint"], plan["listed"]) == (4, 2, "fp1", 6)
    todo, plan = plan_featurization(manifest_of(now), now, None, index, small_payload,
                                    FeaturizationParams(full_refresh=True))
    assert len(todo) == 6 and plan["full_refresh"]


@pytest.mark.parametrize(("images", "cores", "expected"), [(80, 2, 4), (20_622, 2, 22), (3, 8, 3), (0, 2, 1)])
def test_partitions_keep_cores_busy_and_bound_task_size(images: int, cores: int, expected: int) -> None:
    assert partition_count(images, cores, FeaturizationParams(tasks_per_core=2, max_images_per_task=1000)) == expected


def test_the_udf_reads_odd_names_in_the_executors_and_counts_inferences(spark, small_payload, tmp_path) -> None:
    jpeg = (MINI_SET / "Kiwi" / "3_100.jpg").read_bytes()
    names = ["12:30:00.jpg", "_x.jpg", "a%20b #1?.jpg", "été 🍓.jpg", ".hidden.jpg", "x" * 200 + ".jpg",
             "apple[1].jpg", "b*.jpg", "empty.jpg"]
    for name in names:
        (tmp_path / name).write_bytes(b"" if name == "empty.jpg" else jpeg)
    todo = pd.DataFrame({"path": [f"file://{tmp_path}/{name}" for name in names], "relative_path": names,
                         "label": "Kiwi", "change_key": "k"})
    change, counters = featurize_images(todo, small_payload, SETTINGS)
    rows = change.add.collect()
    kinds = {row.relative_path: (row.reject_kind, row.reject_detail) for row in rows}
    assert kinds == {**dict.fromkeys(names[:-1], (None, None)), "empty.jpg": ("empty file", None)}
    assert {len(row.features) for row in rows if row.reject_kind is None} == {1280}
    assert {row.fingerprint for row in rows} == {"fp1"}
    assert counters["images_inferred"].value == counters["images_done"].value - 1 == 8
    assert 1 <= counters["models_built"].value <= 2  # once per Python worker, not once per batch
    report = record_featurization(pd.DataFrame({"reject_kind": [row.reject_kind for row in rows]}),
                                  {"to_featurize": 9}, counters)
    assert (report["featurized"], report["rejected"], report["rejected_by_kind"]) == (8, 1, {"empty file": 1})


def test_nothing_to_featurize_starts_no_spark_job(spark, small_payload) -> None:
    tracker = spark.sparkContext.statusTracker()
    jobs = tracker.getJobIdsForGroup(None)
    change, counters = featurize_images(sample(), small_payload, SETTINGS)
    assert change.add is None and counters["images_inferred"].value == 0
    assert tracker.getJobIdsForGroup(None) == jobs
