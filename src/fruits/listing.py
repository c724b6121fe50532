"""Listing an image tree, as Spark's Python workers run it (kept apart from the dataset so that a worker imports
fsspec and nothing heavier): class folders, or key ranges of a large folder on S3, listed a few at a time, into rows
of URI, path relative to the root, size and change key."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import fsspec

from fruits.uris import protocol

LISTING_THREADS = 8  # folders (or key ranges) a listing task lists at once: an object store answers each slowly
PAGE_KEYS = 1000  # keys per S3 listing page (the most S3 returns)
S3_PROTOCOLS = ("s3", "s3a")
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


Item = TypeVar("Item")
Listed = TypeVar("Listed")


def listed_concurrently(list_one: Callable[[Item], list[Listed]], items: Iterable[Item]) -> Iterator[Listed]:
    """What ``list_one`` lists for each item, :data:`LISTING_THREADS` items at a time: requests to an object store
    overlap, and a task holds the listings of that many items at most."""
    remaining = iter(items)
    with ThreadPoolExecutor(LISTING_THREADS) as pool:
        while batch := list(itertools.islice(remaining, LISTING_THREADS)):
            for listed in pool.map(list_one, batch):
                yield from listed


Shard = tuple[str, str | None, str | None]  # a folder; its keys after the first key, up to the second (None: no end)


def folder_shards(root: str, folder: str) -> list[Shard]:
    """How to list a folder: whole, when one page of an object store's listing holds it (or locally), else in key
    ranges split at each character of :data:`SHARD_CHARACTERS` after the folder name (together they cover every
    key, whatever its characters). One request per folder decides."""
    if protocol(root) not in S3_PROTOCOLS:
        return [(folder, None, None)]
    fs, _ = fsspec.core.url_to_fs(root)
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
