"""A folder of images, one sub-folder per class, read with Spark's ``binaryFile`` reader (read-only).

The pipeline never copies images: samples are manifests of paths into this tree.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

import fsspec
from kedro.io.core import DatasetError
from kedro_datasets.spark import SparkDataset
from pyspark.sql import DataFrame

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
# Hadoop glob for the extensions above in any letter case, e.g. *.{[jJ][pP][gG],...}
IMAGE_GLOB = "*.{" + ",".join("".join(f"[{c.lower()}{c.upper()}]" for c in ext[1:]) for ext in IMAGE_EXTENSIONS) + "}"


def _absolute_url(filepath: str) -> str:
    """Executors run in other working directories: a relative local path must be made absolute on the driver."""
    return filepath if "://" in filepath else os.path.abspath(filepath)


def _spark_path(protocol: str, path: str) -> str:
    """The path as Spark's binaryFile reader spells it (``file:/a/Apple Braeburn/1.jpg``, ``s3a://b/k``)."""
    return f"file:{path}" if protocol in ("file", "local") else f"{protocol}://{path}"


def _modified(info: dict[str, Any]) -> datetime:
    stamp = info.get("LastModified") or info.get("mtime") or 0
    return stamp if isinstance(stamp, datetime) else datetime.fromtimestamp(float(stamp), tz=timezone.utc)


def _empty_images(url: str) -> list[tuple[str, datetime, int, bytes]]:
    """Zero-byte images, which Spark's file sources skip silently: listed so they can be rejected, not lost."""
    fs, root = fsspec.core.url_to_fs(url)
    protocol = url.split("://", 1)[0] if "://" in url else "file"
    return [
        (_spark_path(protocol, path), _modified(info), 0, b"")
        for path, info in fs.find(root, detail=True).items()
        if info["size"] == 0 and path.lower().endswith(IMAGE_EXTENSIONS)
    ]


class ImageFolderDataset(SparkDataset):
    """Image tree as a Spark DataFrame (``path``, ``modificationTime``, ``length``, ``content``).

    S3 access uses the default AWS credential chain (environment, profile, EMR instance profile) on the driver and
    the executors alike.
    """

    def __init__(
        self,
        *,
        filepath: str,
        path_glob_filter: str = IMAGE_GLOB,  # the default accepts .jpg/.jpeg/.png in any letter case
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        load_args = {"pathGlobFilter": path_glob_filter, "recursiveFileLookup": "true", **(load_args or {})}
        super().__init__(
            filepath=filepath,
            file_format="binaryFile",
            load_args=load_args,
            metadata=metadata,
        )
        self._url = _absolute_url(filepath)

    def load(self) -> DataFrame:
        fs, root = fsspec.core.url_to_fs(self._url)
        if not fs.exists(root):
            raise DatasetError(f"Image folder '{self._url}' does not exist.")
        files = super().load()
        empty = _empty_images(self._url)
        return files.unionByName(files.sparkSession.createDataFrame(empty, files.schema)) if empty else files

    def save(self, data: DataFrame) -> None:
        raise DatasetError(
            f"ImageFolderDataset is read-only: '{self._url}' holds source images. Save samples as manifests."
        )

    def _exists(self) -> bool:
        fs, root = fsspec.core.url_to_fs(self._url)
        return fs.exists(root)
