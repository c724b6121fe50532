"""The listing of an S3 tree on the executors, a big folder split in key ranges, and an S3 Inventory report read in
its place: on moto's S3, against what a listing finds."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any
from urllib.parse import quote_plus

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kedro.io.core import DatasetError

from fruits.datasets.image_tree import ImageTree
from fruits.datasets.inventory import inventory_listing
from fruits.listing import PAGE_KEYS, folder_shards

PHOTOS, INVENTORY = "photos", "inventory"
ROOT = f"s3a://{PHOTOS}/raw"
ODD = ["Kiwi/a b+c.jpg", "Kiwi/12:30:00.jpg", "Kiwi/été 🍓.jpg", "Kiwi/100%.jpg", "Apple/x.jpg", "at root.jpg"]


def upload(s3: Any, bucket: str, keys: list[str]) -> None:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    for index, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" * (index % 7 + 1))


def listed(frame: Any) -> pd.DataFrame:
    return frame.toPandas().sort_values("path", ignore_index=True)


def test_a_folder_of_more_than_one_page_is_listed_in_key_ranges_each_key_once(s3_spark, spark) -> None:
    names = [f"{index:04d}.jpg" for index in range(PAGE_KEYS)] + [
        "0", "9~", "_x.jpg", ".hidden.jpg", "été.jpg", "z", "zz.jpg", "~tilde.jpg", "A b.jpg"]
    upload(s3_spark, PHOTOS, [f"raw/Big/{name}" for name in names] + ["raw/Small/1.jpg", "raw/Small/deeper/2.jpg"])
    shards = folder_shards(ROOT, f"{PHOTOS}/raw/Big")
    assert len(shards) > 60 and shards[0][1] is None and shards[-1][2] is None  # every key is in one range
    assert folder_shards(ROOT, f"{PHOTOS}/raw/Small") == [(f"{PHOTOS}/raw/Small", None, None)]
    files = listed(ImageTree(ROOT, lambda: spark).listing())
    assert sorted(files["relative_path"]) == sorted([f"Big/{name}" for name in names]
                                                    + ["Small/1.jpg", "Small/deeper/2.jpg"])
    assert files["path"].str.startswith(f"{ROOT}/").all() and files["change_key"].str.startswith("etag:").all()


def inventory_csv(rows: list[list[str]]) -> bytes:
    """A CSV inventory file as AWS writes it: gzip, no header, every value quoted, keys URL-encoded."""
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return gzip.compress(text.getvalue().encode())


def report(s3: Any, fmt: str, schema: str, files: dict[str, bytes]) -> str:
    """Data files and a manifest.json laid out as S3 Inventory delivers them; returns the manifest's URI."""
    base = f"prefix/{PHOTOS}/daily"
    for name, body in files.items():
        s3.put_object(Bucket=INVENTORY, Key=f"{base}/data/{name}", Body=body)
    manifest = {"sourceBucket": PHOTOS, "destinationBucket": f"arn:aws:s3:::{INVENTORY}", "version": "2016-11-30",
                "creationTimestamp": "1764550800000", "fileFormat": fmt, "fileSchema": schema,
                "files": [{"key": f"{base}/data/{name}", "size": len(body), "MD5checksum": "0"}
                          for name, body in files.items()]}
    s3.put_object(Bucket=INVENTORY, Key=f"{base}/2026-12-01T01-00Z/manifest.json", Body=json.dumps(manifest))
    return f"s3a://{INVENTORY}/{base}/2026-12-01T01-00Z/manifest.json"


def objects(s3: Any) -> list[dict]:
    return s3.list_objects_v2(Bucket=PHOTOS)["Contents"]


def test_a_csv_inventory_report_lists_the_tree_as_a_listing_does(s3_spark, spark) -> None:
    upload(s3_spark, PHOTOS, [f"raw/{name}" for name in ODD] + ["other/Kiwi/1.jpg"])
    upload(s3_spark, INVENTORY, [])
    rows = [[PHOTOS, quote_plus(item["Key"]), "", "true", "false", str(item["Size"]), "2026-12-01T00:00:00.000Z",
             item["ETag"].strip('"')] for item in objects(s3_spark)]
    rows += [[PHOTOS, quote_plus("raw/Kiwi/old.jpg"), "v1", "false", "false", "3", "", "e1"],  # an old version
             [PHOTOS, quote_plus("raw/Kiwi/deleted.jpg"), "v2", "true", "true", "", "", ""]]  # a delete marker
    half = len(rows) // 2
    manifest = report(s3_spark, "CSV", "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, "
                      "ETag", {"a.csv.gz": inventory_csv(rows[:half]),
                               "b.csv.gz": inventory_csv(rows[half:])})
    expected = listed(ImageTree(ROOT, lambda: spark).listing())
    assert sorted(expected["relative_path"]) == sorted(ODD)
    pd.testing.assert_frame_equal(listed(inventory_listing(spark, manifest, ROOT)), expected)


def test_a_parquet_inventory_report_is_read_by_its_schema(s3_spark, spark) -> None:
    upload(s3_spark, PHOTOS, [f"raw/{name}" for name in ODD])
    upload(s3_spark, INVENTORY, [])
    table = pa.table({"bucket": [PHOTOS] * len(ODD), "key": [item["Key"] for item in objects(s3_spark)],
                      "size": [item["Size"] for item in objects(s3_spark)],
                      "e_tag": [item["ETag"].strip('"') for item in objects(s3_spark)]})
    body = io.BytesIO()
    pq.write_table(table, body)
    manifest = report(s3_spark, "Parquet", "message s3.inventory { required binary bucket (UTF8); required binary key "
                      "(UTF8); optional int64 size; optional binary e_tag (UTF8); }", {"a.parquet": body.getvalue()})
    expected = listed(ImageTree(ROOT, lambda: spark).listing())
    pd.testing.assert_frame_equal(listed(inventory_listing(spark, manifest, ROOT)), expected)


def test_a_wrong_report_is_one_sentence_before_any_work(s3_spark, spark, tmp_path) -> None:
    upload(s3_spark, PHOTOS, ["raw/Kiwi/1.jpg"])
    upload(s3_spark, INVENTORY, [])
    with pytest.raises(DatasetError, match="No S3 Inventory manifest at .*: give the manifest.json of a report"):
        inventory_listing(spark, f"s3a://{INVENTORY}/nothing/manifest.json", ROOT)
    without_etags = report(s3_spark, "CSV", "Bucket, Key, Size", {"a.csv.gz": gzip.compress(b"")})
    with pytest.raises(DatasetError, match="lacks the fields e_tag: add Size and ETag"):
        inventory_listing(spark, without_etags, ROOT)
    manifest = report(s3_spark, "CSV", "Bucket, Key, Size, ETag", {"a.csv.gz": gzip.compress(b"")})
    with pytest.raises(DatasetError, match="lists bucket photos, not elsewhere: give a report of the bucket"):
        inventory_listing(spark, manifest, "s3a://elsewhere/raw")
    with pytest.raises(DatasetError, match="is not on S3, and an S3 Inventory report lists an S3 bucket"):
        inventory_listing(spark, manifest, str(tmp_path))
