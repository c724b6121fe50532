"""A tree of images, one top folder per class, listed with fsspec (local files, or S3 through s3fs with the
default AWS credential chain). Read-only: the pipeline never copies or moves images.

Listing is one paginated listing per class folder, in parallel (S3: 1,000 keys per request, no request per
object), into a table of URIs and change keys. No file name is ever parsed as a Hadoop path, so ``:``, ``%``, ``#``,
``?``, a leading ``_`` or ``.``, spaces and unicode are all just names.
"""

from __future__ import annotations

import base64
import io
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import fsspec
import pandas as pd
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from kedro_datasets._typing import ImagePreview
from PIL import Image

from fruits.featurizer import read_files
from fruits.images import THUMBNAIL, placeholder, thumbnail
from fruits.publishing import absolute_uri
from fruits.uris import protocol

logger = logging.getLogger(__name__)

LISTING_COLUMNS = ["path", "relative_path", "size", "change_key"]
LISTING_THREADS = 16  # class folders listed at once: S3 answers each page in tens of milliseconds


def change_key(info: dict[str, Any]) -> str:
    """What changes when a file's content changes: the ETag on S3 (an MD5 of the content or of its parts), else
    the modification time and size."""
    etag = info.get("ETag") or info.get("etag")
    if etag:
        return f"etag:{str(etag).strip(chr(34))}"
    mtime = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or 0
    stamp = mtime.timestamp() if hasattr(mtime, "timestamp") else float(mtime)
    return f"mtime:{int(stamp * 1_000_000)}:size:{int(info.get('size') or 0)}"


@dataclass
class ImageTree:
    """The tree at ``root``; its listing is taken on first use only (one listing per run)."""

    root: str
    _files: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.fs, self.root_path = fsspec.core.url_to_fs(self.root)
        self._protocol = protocol(self.root)

    def uri(self, fs_path: str) -> str:
        """A listed path as a URI in the root's own spelling (``file:///…`` locally, ``s3a://bucket/key``)."""
        return f"{self._protocol}://{fs_path}" if self._protocol != "file" else f"file://{fs_path}"

    @property
    def files(self) -> pd.DataFrame:
        """Every file under the root: ``path`` (URI), ``relative_path``, ``size``, ``change_key``."""
        if self._files is None:
            self._files = self._list()
        return self._files

    def _list(self) -> pd.DataFrame:
        started = time.perf_counter()
        self.fs.invalidate_cache(self.root_path)  # s3fs caches listings per process: see what is there now
        if not self.fs.isdir(self.root_path):
            raise DatasetError(self.problem())
        top = self.fs.ls(self.root_path, detail=True)
        folders = [entry["name"] for entry in top if entry["type"] == "directory"]
        entries: list[tuple[str, dict[str, Any]]] = [(entry["name"], entry) for entry in top
                                                      if entry["type"] != "directory"]
        with ThreadPoolExecutor(LISTING_THREADS) as pool:
            for listing in pool.map(lambda folder: self.fs.find(folder, detail=True), folders):
                entries.extend(listing.items())
        prefix = self.root_path.rstrip("/") + "/"
        files = pd.DataFrame(
            [(self.uri(path), path.removeprefix(prefix), int(info.get("size") or 0), change_key(info))
             for path, info in entries],
            columns=LISTING_COLUMNS,
        )
        logger.info("Listed %d files in %d class folders under %s in %.1f s", len(files), len(folders), self.root,
                    time.perf_counter() - started)
        return files.sort_values("path", ignore_index=True)

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


class ImageTreeDataset(AbstractDataset[None, ImageTree]):
    """``load()`` gives the :class:`ImageTree` at ``filepath`` (listed lazily; nothing is read up front)."""

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._root = absolute_uri(filepath)
        self.metadata = metadata

    def load(self) -> ImageTree:
        return ImageTree(self._root)

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
