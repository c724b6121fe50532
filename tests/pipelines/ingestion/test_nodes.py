"""Ingestion: what each listed file is, and the stratified sample (Spark jobs on the listing's rows)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fruits.datasets.image_tree import FILES_SCHEMA, ImageTreeDataset
from fruits.datasets.run import UNCHANGED
from fruits.datasets.table import TableChanges
from fruits.params import IngestionParams, SamplingParams
from fruits.pipelines.ingestion.nodes import (
    LISTING_COUNTS,
    allocate_quotas,
    class_quotas,
    classify_files,
    compare_samples,
    count_listing,
    list_images,
    sample_images,
    summarize_listing,
    update_sample,
)

EXTENSIONS = (".jpg", ".jpeg", ".png")


def listing(relative_paths: list[str], root: str = "file:///t/") -> DataFrame:
    rows = [(f"{root}{path}", path, 1, "k") for path in relative_paths]
    return SparkSession.getActiveSession().createDataFrame(rows, FILES_SCHEMA)


def classified(*relative_paths: str, extensions: tuple[str, ...] = EXTENSIONS) -> pd.DataFrame:
    return classify_files(listing(list(relative_paths)), extensions).toPandas()


def test_each_file_is_an_image_a_reject_or_ignored_by_kind(spark) -> None:
    manifest = classified(
        "Apple/1.JPG", "Apple/deeper/x.jpeg", "Apple/12:30:00.jpg", "Apple/_x.jpg", "Apple/.hidden.png",
        "Apple/.DS_Store", "Apple/._1.jpg", "Thumbs.db", "Apple/desktop.ini", "__MACOSX/Apple/1.jpg",
        "Apple/notes.txt", "Apple/README", "root.jpg",
    ).set_index("relative_path")
    images = manifest[manifest["status"] == "image"]
    assert sorted(images.index) == ["Apple/.hidden.png", "Apple/1.JPG", "Apple/12:30:00.jpg", "Apple/_x.jpg",
                                    "Apple/deeper/x.jpeg"]
    assert set(images["label"]) == {"Apple"}  # the first folder, however deep the file is
    assert manifest.loc["root.jpg", ["status", "detail"]].tolist() == ["rejected", "not in a class folder"]
    assert pd.isna(manifest.loc["root.jpg", "label"])
    assert manifest.loc[manifest["status"] == "ignored", "detail"].to_dict() == {
        "Apple/.DS_Store": "os metadata (.DS_Store)",
        "Apple/._1.jpg": "os metadata (AppleDouble ._ file)",
        "Thumbs.db": "os metadata (Thumbs.db)",
        "Apple/desktop.ini": "os metadata (desktop.ini)",
        "__MACOSX/Apple/1.jpg": "os metadata (__MACOSX)",
        "Apple/notes.txt": "other extension (.txt)",
        "Apple/README": "other extension (none)",
    }


def test_iphone_heic_photos_are_images_by_default(spark) -> None:
    manifest = classified("Apple/IMG_0001.HEIC", "Apple/burst.heif", "Apple/clip.MOV",
                          extensions=IngestionParams().image_extensions).set_index("relative_path")
    assert manifest["status"].to_dict() == {"Apple/IMG_0001.HEIC": "image", "Apple/burst.heif": "image",
                                            "Apple/clip.MOV": "ignored"}


def test_a_tree_without_images_in_class_folders_is_refused_naming_the_folder(spark, tmp_path: Path) -> None:
    (tmp_path / "Apple").mkdir()
    (tmp_path / "Apple" / "notes.txt").write_bytes(b"x")
    (tmp_path / "1.jpg").write_bytes(b"x")
    manifest = list_images(ImageTreeDataset(filepath=str(tmp_path)).load(), IngestionParams()).synced_rows
    with pytest.raises(ValueError, match=f"No images in class folders under {tmp_path} .*2 files listed.*Apple/1.jpg"):
        count_listing(manifest, str(tmp_path))


def test_the_listing_names_how_it_was_classified_so_that_other_extensions_classify_it_again(spark, tmp_path) -> None:
    (tmp_path / "Apple").mkdir()
    (tmp_path / "Apple" / "1.jpg").write_bytes(b"x")
    tree = ImageTreeDataset(filepath=str(tmp_path)).load()
    jpeg, again, heic = (list_images(tree, IngestionParams(image_extensions=extensions)).derived_by
                         for extensions in ([".jpg"], [".jpg"], [".jpg", ".heic"]))
    assert jpeg == again != heic and len(jpeg) == 16


def test_total_is_spread_equally_and_short_classes_hand_over_their_quota() -> None:
    assert allocate_quotas({"a": 10, "b": 10, "c": 10}, 9) == {"a": 3, "b": 3, "c": 3}
    assert allocate_quotas({"short": 2, "b": 10, "c": 10}, 12) == {"short": 2, "b": 5, "c": 5}
    assert allocate_quotas({"a": 5, "b": 9, "c": 9}, 10) == {"a": 3, "b": 4, "c": 3}
    assert allocate_quotas({"a": 1, "b": 4}, 100) == {"a": 1, "b": 4}


def test_per_class_and_total_quotas() -> None:
    sizes = {"a": 3, "b": 8}
    assert class_quotas(sizes, SamplingParams(strategy="per_class", size=5)) == {"a": 3, "b": 5}
    assert class_quotas(sizes, SamplingParams(strategy="total", size=8)) == {"a": 3, "b": 5}


def manifest_of(names: list[str], root: str = "file:///t/") -> DataFrame:
    return classify_files(listing(names, root), EXTENSIONS)


def sampled(manifest: DataFrame, settings: SamplingParams) -> pd.DataFrame:
    return sample_images(manifest, settings).sync.toPandas().sort_values("path", ignore_index=True)


def test_the_sample_takes_each_quota_deterministically_wherever_the_tree_lives(spark) -> None:
    classes = {"Kiwi": 10, "Lemon": 2, "Apple Granny Smith": 8}
    names = [f"{label}/{index}_100.jpg" for label, count in classes.items() for index in range(count)]
    manifest = manifest_of(names)
    settings = SamplingParams(strategy="total", size=12, seed=42)
    sample = sampled(manifest, settings)
    assert list(sample.columns) == ["path", "relative_path", "label", "change_key"]
    assert sample["label"].value_counts().to_dict() == {"Kiwi": 5, "Apple Granny Smith": 5, "Lemon": 2}
    moved = sampled(manifest_of(names, "s3a://bucket/raw/"), settings)
    assert moved["relative_path"].tolist() == sample["relative_path"].tolist()
    assert sampled(manifest_of(names[::-1]).repartition(3), settings)["path"].tolist() == sample["path"].tolist()
    other_seed = sampled(manifest, SamplingParams(strategy="total", size=12, seed=7))
    assert other_seed["relative_path"].tolist() != sample["relative_path"].tolist()


def test_all_keeps_every_image_and_never_rejects_or_ignored_files(spark) -> None:
    manifest = manifest_of(["Kiwi/1.jpg", "Kiwi/notes.txt", "root.jpg"])
    assert sampled(manifest, SamplingParams())["relative_path"].tolist() == ["Kiwi/1.jpg"]


def sample(*rows: tuple[str, str]) -> DataFrame:
    return SparkSession.getActiveSession().createDataFrame(
        [(f"file:///t/Kiwi/{name}", f"Kiwi/{name}", "Kiwi", key) for name, key in rows],
        "path string, relative_path string, label string, change_key string")


def test_samples_are_compared_by_uri_and_change_key(spark) -> None:
    now = sample(("same.jpg", "k1"), ("edited.jpg", "k2"), ("added.jpg", "k1"))
    before = sample(("same.jpg", "k1"), ("edited.jpg", "k1"), ("removed.jpg", "k1"))
    manifest = manifest_of(["Kiwi/same.jpg", "Kiwi/edited.jpg", "Kiwi/added.jpg"])
    assert compare_samples(now, before, manifest) == {"new": 1, "changed": 1, "left_sample": 0, "gone": 1,
                                                      "unchanged": 1}
    assert compare_samples(now, None, manifest) == {"new": 3, "changed": 0, "left_sample": 0, "gone": 0,
                                                    "unchanged": 0}
    recorded = SparkSession.getActiveSession().createDataFrame(  # what the sample's change feed says of the same
        [("file:///t/Kiwi/edited.jpg", ("k1",), ("k2",)), ("file:///t/Kiwi/added.jpg", None, ("k1",)),
         ("file:///t/Kiwi/removed.jpg", ("k1",), None)],
        "path string, before struct<change_key: string>, after struct<change_key: string>")
    assert compare_samples(now, before, manifest, TableChanges(1, 2, recorded)) == {
        "new": 1, "changed": 1, "left_sample": 0, "gone": 1, "unchanged": 1}
    smaller = sample(("same.jpg", "k1"), ("added.jpg", "k1"))  # edited.jpg left the sample, still listed
    recorded = recorded.withColumn("after", F.when(~F.col("path").endswith("edited.jpg"), F.col("after")))
    expected = {"new": 1, "changed": 0, "left_sample": 1, "gone": 1, "unchanged": 1}
    assert compare_samples(smaller, before, manifest, TableChanges(1, 2, recorded)) == expected
    assert compare_samples(smaller, before, manifest) == expected


def test_images_no_longer_sampled_left_the_sample_and_are_not_gone_from_the_tree(spark) -> None:
    names = [f"{label}/{index}.jpg" for label in ("Apple", "Kiwi") for index in range(20)]
    manifest = manifest_of([*names, "Kiwi/.DS_Store", "root.jpg"])
    everything = sample_images(manifest, SamplingParams(strategy="all")).sync
    smaller = sample_images(manifest, SamplingParams(strategy="total", size=4, seed=1)).sync
    info = {"run_id": "r1", "raw_images": "/t", "sampling": {"strategy": "total", "size": 4, "seed": 1}}
    sources = {"listing": 3, "sample": 5}
    summary = summarize_listing(manifest, smaller, everything, None, info, sources, None)
    assert summary["input"] == {"raw_images": "/t", "sampling": {"strategy": "total", "size": 4, "seed": 1}}
    assert summary["sample_changes"] == {"new": 0, "changed": 0, "left_sample": 36, "gone": 0, "unchanged": 4}
    assert (summary["listed"], summary["images"], summary["sampled"], summary["listing_rejected"]) == (42, 40, 4, 1)
    assert summary["ignored_by_kind"] == {"os metadata (.DS_Store)": 1}
    shrunk = manifest_of(names[:20])
    after_deletion = summarize_listing(shrunk, sample_images(shrunk, SamplingParams(strategy="all")).sync,
                                       everything, None, info, {"listing": 4, "sample": 6}, summary)
    assert after_deletion["sample_changes"] == {"new": 0, "changed": 0, "left_sample": 0, "gone": 20,
                                                "unchanged": 20}
    assert not after_deletion["plan"]["reused"]


def test_a_listing_and_sample_as_counted_before_are_not_read_again(spark) -> None:
    manifest = manifest_of(["Apple/1.jpg", "Kiwi/1.jpg", "Kiwi/.DS_Store"])
    settings = SamplingParams(strategy="per_class", size=1)
    info = {"run_id": "r1", "raw_images": "/t", "sampling": settings.model_dump()}
    change, sample_plan = update_sample(manifest, None, None, settings, {"listing": 3}, None, info)
    assert change.sync.count() == 2 and not sample_plan["reused"]
    summary = summarize_listing(manifest, change.sync, None, None, info, {"listing": 3, "sample": 1}, None)
    rerun = {**info, "run_id": "r2"}  # nothing changed: no table is read (None would fail if it were)
    assert update_sample(None, None, None, settings, {"listing": 3}, sample_plan, rerun) == (UNCHANGED, {**sample_plan,
                                                                                           "reused": True})
    again = summarize_listing(None, None, None, None, rerun, {"listing": 3, "sample": 1}, summary)
    assert {name: again[name] for name in LISTING_COUNTS} == {name: summary[name] for name in LISTING_COUNTS}
    assert again["sample_changes"] == {"new": 0, "changed": 0, "left_sample": 0, "gone": 0, "unchanged": 2}
    assert again["plan"]["reused"] and again["plan"]["made_by"] == "r1"
    other_settings = SamplingParams(strategy="per_class", size=2)
    assert not update_sample(manifest, None, None, other_settings, {"listing": 3}, sample_plan, rerun)[1]["reused"]
    assert not update_sample(manifest, None, None, settings, {"listing": 4}, sample_plan, rerun)[1]["reused"]


def listing_changes(*rows: tuple[str, tuple | None, tuple | None]) -> DataFrame:
    """The listing's changes (path, (change key, status) before and after) as its change feed gives them."""
    entry = ("struct<path: string, relative_path: string, label: string, size: bigint, change_key: string, "
             "status: string, detail: string>")
    def listed(name: str, end: tuple | None) -> tuple | None:
        return None if end is None else (f"file:///t/{name}", name, name.split("/", maxsplit=1)[0], 1, *end, "")
    return SparkSession.getActiveSession().createDataFrame(
        [(f"file:///t/{name}", listed(name, before), listed(name, after)) for name, before, after in rows],
        f"path string, before {entry}, after {entry}")


def test_sampling_everything_follows_the_listings_recorded_changes(spark) -> None:
    settings = SamplingParams()
    info = {"run_id": "r2", "raw_images": "/t", "sampling": settings.model_dump()}
    published = {"basis": {"tables": {"listing": 3}, "sampling": settings.model_dump(mode="json")}, "made_by": "r1",
                 "reused": False}
    changes = TableChanges(3, 5, listing_changes(
        ("Kiwi/new.jpg", None, ("k1", "image")), ("Kiwi/edited.jpg", ("k1", "image"), ("k2", "image")),
        ("Kiwi/deleted.jpg", ("k1", "image"), None), ("Kiwi/notes.txt", None, ("k1", "ignored"))))
    untouched = TableChanges(7, 7, listing_changes())  # this run has not changed the sample yet
    change, plan = update_sample(None, changes, untouched, settings, {"listing": 5}, published, info)
    # an image the listing did not hold cannot be in the sample drawn from it: appended, no MERGE
    assert [(row.relative_path, row.change_key) for row in change.add.collect()] == [("Kiwi/new.jpg", "k1")]
    assert [(row.relative_path, row.change_key) for row in change.upsert.collect()] == [("Kiwi/edited.jpg", "k2")]
    assert [row.path for row in change.remove.collect()] == ["file:///t/Kiwi/deleted.jpg"]
    assert change.sync is None and plan["basis"]["tables"] == {"listing": 5} and not plan["reused"]
    manifest = manifest_of(["Kiwi/new.jpg", "Kiwi/edited.jpg"])
    for other in ({"changes": TableChanges(4, 5, changes.rows)},  # the published sample was drawn from another version
                  {"sample": TableChanges(7, 8, listing_changes())},  # a resumed run that already changed it
                  {"settings": SamplingParams(strategy="per_class", size=1)}):
        whole, _ = update_sample(manifest, other.get("changes", changes), other.get("sample", untouched),
                                 other.get("settings", settings), {"listing": 5}, published, info)
        assert whole.sync is not None and whole.upsert is None  # compared whole with the listing
