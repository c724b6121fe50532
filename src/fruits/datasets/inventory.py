"""An S3 Inventory report as the listing of an image tree: AWS writes the list of a bucket's objects daily or
weekly (CSV, ORC or Parquet files named by a ``manifest.json``), so a run reads a few files instead of sending
one listing request per 1,000 keys: the way to see a bucket of 100 million photos for cents.

The report is as old as its date: objects written since are seen by the next report (or by a listing).
"""

from __future__ import annotations

import json
import re

import fsspec
from kedro.io.core import DatasetError
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from fruits.uris import SEPARATOR, protocol

# The columns a row needs, as the ORC and Parquet schemas name them; CSV names them in the manifest's ``fileSchema``
# (``Bucket, Key, …``), in the same order as its files' columns, without a header.
CSV_NAMES = {"Bucket": "bucket", "Key": "key", "Size": "size", "ETag": "e_tag", "IsLatest": "is_latest",
             "IsDeleteMarker": "is_delete_marker"}
REQUIRED = ("bucket", "key", "size", "e_tag")
PARQUET_FIELD = re.compile(r"(\w+)(?:\s*\([^)]*\))?\s*;")  # "optional binary key (UTF8);" -> key


def read_manifest(manifest_uri: str) -> dict:
    """The manifest of one inventory report, checked for what a listing needs, or a one-sentence error."""
    fs, path = fsspec.core.url_to_fs(manifest_uri)
    try:
        manifest = json.loads(fs.cat_file(path))
    except FileNotFoundError:
        raise DatasetError(f"No S3 Inventory manifest at {manifest_uri}: give the manifest.json of a report "
                           "(destination-prefix/source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json).") from None
    names = columns(manifest)
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise DatasetError(f"The S3 Inventory report {manifest_uri} lacks the fields {', '.join(missing)}: add Size "
                           "and ETag to the inventory configuration's optional fields.")
    return manifest


def columns(manifest: dict) -> list[str]:
    """The report's column names, as ORC and Parquet spell them (``e_tag``)."""
    schema = manifest["fileSchema"]
    if manifest["fileFormat"].upper() == "CSV":
        return [CSV_NAMES.get(name.strip(), name.strip()) for name in schema.split(",")]
    if schema.startswith("struct<"):  # ORC
        return [field.split(":", 1)[0] for field in schema.removeprefix("struct<").removesuffix(">").split(",")]
    return PARQUET_FIELD.findall(schema)


def report_rows(spark: SparkSession, manifest_uri: str, manifest: dict) -> DataFrame:
    """The report's rows, read by Spark from its data files (``bucket``, ``key``, ``size``, ``e_tag`` and, in a
    versioned bucket's report, ``is_latest`` and ``is_delete_marker``); CSV keys URL-decoded as AWS encodes them."""
    bucket = manifest["destinationBucket"].rsplit(":", 1)[-1]
    files = [f"{protocol(manifest_uri)}{SEPARATOR}{bucket}/{item['key']}" for item in manifest["files"]]
    kind = manifest["fileFormat"].upper()
    if kind == "CSV":
        names = columns(manifest)
        rows = spark.read.csv(files, schema=", ".join(f"`{name}` string" for name in names))
        return rows.withColumn("key", F.expr("url_decode(key)")).withColumn("size", F.col("size").cast("long"))
    return spark.read.format(kind.lower()).load(files)


def inventory_listing(spark: SparkSession, manifest_uri: str, root: str) -> DataFrame:
    """The files under ``root`` (an S3 URI) as the report lists them, in the columns of a listing (``path``,
    ``relative_path``, ``size``, ``change_key``: the ETag, as a listing gives it)."""
    if protocol(root) not in ("s3", "s3a"):
        raise DatasetError(f"raw_images {root} is not on S3, and an S3 Inventory report lists an S3 bucket: unset "
                           "ingestion.inventory to list the folder.")
    manifest = read_manifest(manifest_uri)
    scheme, location = root.split(SEPARATOR, 1)
    bucket, _, prefix = location.partition("/")
    if manifest["sourceBucket"] != bucket:
        raise DatasetError(f"The S3 Inventory report {manifest_uri} lists bucket {manifest['sourceBucket']}, not "
                           f"{bucket}: give a report of the bucket raw_images is in.")
    rows = report_rows(spark, manifest_uri, manifest)
    folder = prefix.rstrip("/") + "/" if prefix.strip("/") else ""
    current: Column = F.col("key").startswith(folder) & ~F.col("key").endswith("/")
    if "is_latest" in rows.columns:  # a versioned bucket's report lists every version
        current &= F.coalesce(F.col("is_latest").cast("boolean"), F.lit(True))
        current &= ~F.coalesce(F.col("is_delete_marker").cast("boolean"), F.lit(False))
    return rows.where((F.col("bucket") == bucket) & current).select(
        F.concat(F.lit(f"{scheme}{SEPARATOR}{bucket}/"), F.col("key")).alias("path"),
        F.expr(f"substring(key, {len(folder) + 1})").alias("relative_path"),
        F.col("size").cast("long").alias("size"),
        F.concat(F.lit("etag:"), F.regexp_replace("e_tag", '"', "")).alias("change_key"),
    )
