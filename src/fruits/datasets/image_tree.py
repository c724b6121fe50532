"""A tree of images, one top folder per class, listed with fsspec (local files, or S3 through s3fs with the
default AWS credential chain). Read-only: the pipeline never copies or moves images.

Listing is a Spark job: the driver lists the root (one request), and the executors list the class folders, one
paginated listing each (S3: 1,000 keys per request, no request per object), into a DataFrame of URIs and change
keys that never passes through the driver. On S3, a class folder of more than one page of keys is split into key
ranges by the character after the folder name, each listed by a task of its own. No file name is ever parsed as a
Hadoop path, so ``:``, ``%``, ``#``, ``?``, a leading ``_`` or ``.``, spaces and unicode are all just names.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import fsspec
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from kedro_datasets._typing import ImagePreview
from PIL import Image
from pyspark.sql import DataFrame, SparkSession
from s3fs import S3FileSystem

from fruits.datasets.binding import SparkBound
from fruits.datasets.inventory import inventory_listing
from fruits.featurizer import read_files
from fruits.images import THUMBNAIL, placeholder, thumbnail
from fruits.publishing import absolute_uri
from fruits.spark import existing_spark
from fruits.uris import protocol

logger = logging.getLogger(__name__)

FILES_SCHEMA = "path string, relative_path string, size long, change_key string"
LISTING_TASKS_PER_CORE = 8  # class folders are listed in this many tasks per core: a slow folder delays few others
PAGE_KEYS = 1000  # keys per S3 listing page (the most S3 returns)
SHARD_CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # in S3's (UTF-8 byte) order


def change_key(info: dict[str, Any]) -> str:
    """What changes when a file's content changes: the ETag on S3 (an MD5 of the content or of its parts), else
    the modification time and size."""
    etag = info.get("ETag") or info.get("etag")
    if etag:
        return f"etag:{str(etag).strip(chr(34))}"
    mtime = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or 0
    stamp = mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime)
    return f"mtime:{int(stamp * 1_000_000)}:size:{int(info.get('size') or 0)}"


Entry = tuple[str, str, int, str]  # path (URI), relative path, size, change key


def entries(root: str, listing: Iterable[tuple[str, dict[str, Any]]]) -> list[Entry]:
    """Listed files of the tree at ``root`` as rows: the URI in the root's own spelling (``file:///…`` locally,
    ``s3a://bucket/key``), the path relative to the root, the size and the change key."""
    scheme = protocol(root)
    prefix = fsspec.core.url_to_fs(root)[1].rstrip("/") + "/"
    return [(f"{scheme}://{path}", path.removeprefix(prefix), int(info.get("size") or 0), change_key(info))
            for path, info in listing]


def list_folder(root: str, folder: str) -> list[Entry]:
    """Every file under one folder of the tree (run on an executor: the file system comes from the root's URI and
    the default credential chain)."""
    fs, _ = fsspec.core.url_to_fs(root)
    fs.invalidate_cache(folder)  # s3fs caches listings per process: see what is there now
    return entries(root, fs.find(folder, detail=True).items())


Shard = tuple[str, str | None, str | None]  # a folder; its keys after the first key, up to the second (None: no end)


def folder_shards(root: str, folder: str) -> list[Shard]:
    """How to list a folder: whole, when one page of an object store's listing holds it (or locally), else in key
    ranges split at each character of :data:`SHARD_CHARACTERS` after the folder name (together they cover every
    key, whatever its characters). One request per folder decides."""
    fs, _ = fsspec.core.url_to_fs(root)
    if not isinstance(fs, S3FileSystem):
        return [(folder, None, None)]
    bucket, prefix = folder.split("/", 1)
    page = fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=f"{prefix}/", MaxKeys=PAGE_KEYS)
    if not page.get("IsTruncated"):
        return [(folder, None, None)]
    bounds = [None, *(f"{prefix}/{character}" for character in SHARD_CHARACTERS), None]
    return [(folder, after, until) for after, until in zip(bounds, bounds[1:], strict=False)]


def list_shard(root: str, shard: Shard) -> list[Entry]:
    """The files of one shard (:func:`folder_shards`): keys after ``after`` up to ``until``, in S3's key order."""
    folder, after, until = shard
    if after is None and until is None:
        return list_folder(root, folder)
    fs, _ = fsspec.core.url_to_fs(root)
    bucket, prefix = folder.split("/", 1)
    request = {"Bucket": bucket, "Prefix": f"{prefix}/", **({"StartAfter": after} if after else {})}
    found: list[tuple[str, dict[str, Any]]] = []
    while True:
        page = fs.call_s3("list_objects_v2", **request)
        for item in page.get("Contents", []):
            if until is not None and item["Key"] > until:
                return entries(root, found)
            if not item["Key"].endswith("/"):  # a folder marker, not a file
                found.append((f"{bucket}/{item['Key']}", {"size": item["Size"], "ETag": item["ETag"]}))
        if not page.get("IsTruncated"):
            return entries(root, found)
        request["ContinuationToken"] = page["NextContinuationToken"]


@dataclass
class ImageTree:
    """The tree at ``root``: listed as a Spark job (:meth:`listing`, in the session ``spark`` gives), read by URI
    (:meth:`read`)."""

    root: str
    spark: Callable[[], SparkSession] = existing_spark

    def __post_init__(self) -> None:
        self.fs, self.root_path = fsspec.core.url_to_fs(self.root)

    def listing(self, inventory: str | None = None) -> DataFrame:
        """Every file under the root: ``path`` (URI), ``relative_path``, ``size``, ``change_key``. The root is listed
        here, each class folder by a task of its own; the rows stay on the executors. With ``inventory`` (the
        ``manifest.json`` of an S3 Inventory report of the root's bucket), the report's files are read instead."""
        if inventory:
            return inventory_listing(self.spark(), inventory, self.root)
        self.fs.invalidate_cache(self.root_path)
        problem = self.problem()
        if problem is not None:
            raise DatasetError(problem)
        top = self.fs.ls(self.root_path, detail=True)
        folders = sorted(entry["name"] for entry in top if entry["type"] == "directory")
        at_root = entries(self.root, [(entry["name"], entry) for entry in top if entry["type"] != "directory"])
        root, spark = self.root, self.spark()
        tasks = max(1, min(len(folders), spark.sparkContext.defaultParallelism * LISTING_TASKS_PER_CORE))
        shards = spark.sparkContext.parallelize(folders, tasks).flatMap(lambda folder: folder_shards(root, folder))
        listed = shards.repartition(tasks).flatMap(lambda shard: list_shard(root, shard))
        logger.info("Listing %d class folders under %s", len(folders), self.root)
        return spark.createDataFrame(at_root, FILES_SCHEMA).unionByName(spark.createDataFrame(listed, FILES_SCHEMA))

    def read(self, uris: Iterable[str]) -> dict[str, bytes | Exception]:
        """The bytes of some files (or the error reading each), fetched concurrently on object stores."""
        wanted = list(dict.fromkeys(uris))
        return dict(zip(wanted, read_files(self.fs, wanted), strict=True))

    def problem(self) -> str | None:
        """Why this cannot be an image tree (missing, or without class folders), in one sentence; None if fine."""
        if not self.fs.isdir(self.root_path):
            return (f"Image folder {self.root} does not exist: give the folder of class folders with "
                    "`kedro run --params raw_images=/path/to/images` (or set raw_images in conf/*/globals.yml).")
        if not any(entry["type"] == "directory" for entry in self.fs.ls(self.root_path, detail=True)):
            return (f"Image folder {self.root} has no class folders: put each class's images in a folder of its "
                    f"own, e.g. {self.root}/Apple/1.jpg (the folder name is the label).")
        return None


def _first_picture(tree: ImageTree, folder: str) -> Image.Image:
    """The first file of a class folder that can be shown, else a placeholder tile: a preview shows the tree as it
    is, bad files included, and never fails on one."""
    for path in sorted(tree.fs.find(folder)):
        picture = thumbnail(read_files(tree.fs, [path])[0])
        if picture is not None:
            return picture
    return placeholder()


class ImageTreeDataset(SparkBound, AbstractDataset[None, ImageTree]):
    """``load()`` gives the :class:`ImageTree` at ``filepath`` (listed lazily; nothing is read up front)."""

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._root = absolute_uri(filepath)
        self.metadata = metadata

    def load(self) -> ImageTree:
        return ImageTree(self._root, self.spark)

    def save(self, data: ImageTree) -> None:
        raise DatasetError(f"{self._root} holds source images: the pipeline only reads it.")

    def _exists(self) -> bool:
        fs, path = fsspec.core.url_to_fs(self._root)
        return fs.isdir(path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._root}

    def preview(self, images: int = 12) -> ImagePreview:
        """A grid of the first image of a few classes, as a PNG data URI (``kedro viz --include-previews``)."""
        tree = self.load()
        fs = tree.fs
        folders = sorted(entry for entry in fs.ls(tree.root_path, detail=False) if fs.isdir(entry))[:images]
        pictures = [_first_picture(tree, folder) for folder in folders]
        grid = Image.new("RGB", (THUMBNAIL * max(1, len(pictures)), THUMBNAIL), "white")
        for index, picture in enumerate(pictures):
            grid.paste(picture, (THUMBNAIL * index, 0))
        buffer = io.BytesIO()
        grid.save(buffer, format="PNG")
        return ImagePreview(base64.b64encode(buffer.getvalue()).decode())
