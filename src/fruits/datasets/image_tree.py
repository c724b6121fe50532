"""A tree of images, one top folder per class, listed with fsspec (local files, or S3 through s3fs with the
default AWS credential chain). Read-only: the pipeline never copies or moves images.

Listing is a Spark job: the driver lists the root (one request), and the executors list the class folders, one
paginated listing each (S3: 1,000 keys per request, no request per object), into a DataFrame of URIs and change
keys that never passes through the driver. On S3, a class folder of more than one page of keys is split into key
ranges by the character after the folder name, spread over the tasks. No file name is ever parsed as a
Hadoop path, so ``:``, ``%``, ``#``, ``?``, a leading ``_`` or ``.``, spaces and unicode are all just names.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import fsspec
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from kedro_datasets._typing import ImagePreview
from PIL import Image
from pyspark.sql import DataFrame, SparkSession

from fruits.datasets.binding import SparkBound
from fruits.datasets.inventory import inventory_listing
from fruits.featurizer import read_files
from fruits.images import THUMBNAIL, placeholder, thumbnail
from fruits.listing import entries, folder_shards, list_shard, listed_concurrently
from fruits.publishing import absolute_uri
from fruits.spark import existing_spark

logger = logging.getLogger(__name__)

FILES_SCHEMA = "path string, relative_path string, size long, change_key string"


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
        here, the class folders by one task per core (each lists several at once: :mod:`fruits.listing`); the rows
        stay on the executors. With ``inventory`` (the ``manifest.json`` of an S3 Inventory report of the root's
        bucket), the report's files are read instead."""
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
        tasks = max(1, min(len(folders), spark.sparkContext.defaultParallelism))  # each task lists concurrently
        shards = spark.sparkContext.parallelize(folders, tasks).mapPartitions(
            lambda part: listed_concurrently(partial(folder_shards, root), part))
        listed = shards.repartition(tasks).mapPartitions(
            lambda part: listed_concurrently(partial(list_shard, root), part))
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
