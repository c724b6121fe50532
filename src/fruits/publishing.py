"""Runs and what is published: each run writes its outputs under its own folder and commits to the data root's
Delta tables, and one small pointer object names the current state. Readers of the published state only ever follow
the pointer, so a run that fails or is killed is never read as complete.

Layout under a data root (a local folder, or ``s3a://bucket/prefix/data``)::

    current.json                 the pointer: the published run, where each output's current version is, and the
                                 Delta version of each table that the run published
    runs/<run id>/_run.json      that run's ledger: what it has written so far (the pointer's content once published)
    runs/<run id>/<layer>/...    the run's outputs that are not tables (PCA model, report, plots)
    04_feature/feature_store/    Delta tables (fruits.tables.TABLES): their newest version may hold commits of a run
    07_model_output/results/     that was never published; the published one is the version the pointer names
    07_model_output/rejects/

Publishing is the very last step of a run: the ledger is written, then the pointer, in one PUT on S3 or one rename
locally. Old run folders are then pruned; the tables are vacuumed by Delta Lake itself.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import fsspec
from fsspec.asyn import sync
from fsspec.implementations.local import LocalFileSystem

from fruits.uris import is_plain_path

logger = logging.getLogger(__name__)

POINTER = "current.json"
RUNS = "runs"
LEDGER = "_run.json"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by start time (UTC, to the microsecond), unique across machines: ``20261129T171502.123456Z-3fa9``."""
    return f"{(now or datetime.now(timezone.utc)):%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(2)}"


def absolute_uri(uri: str) -> str:
    """Executors and Spark run elsewhere than the driver's working directory: local paths are made absolute."""
    return os.path.abspath(uri) if is_plain_path(uri) else uri


@dataclass
class Publication:
    """The state a pointer names: which run, where each dataset's current version is, each table's Delta version,
    and for tables kept by digest (:attr:`fruits.tables.Table.digest`) the digest of their rows at a version.

    Locations are relative to the data root, so a root can be copied or moved as a whole.
    """

    run_id: str | None = None
    base_run_id: str | None = None
    started_at: str | None = None
    published_at: str | None = None
    datasets: dict[str, str] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    digests: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> Publication:
        content = json.loads(text)
        if is_legacy(content):
            raise LegacyLayoutError(  # fruits.migration converts it
                "This data root holds tables as Parquet file lists (the layout before Delta Lake): convert it once "
                "with `fruits migrate-tables`, then run again."
            )
        return cls(**content)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"



def is_legacy(content: dict) -> bool:
    """A pointer or ledger of the layout before Delta Lake: tables as lists of Parquet files."""
    return "added" in content or any(isinstance(value, list) for value in content.get("tables", {}).values())


class LegacyLayoutError(RuntimeError):
    """A data root written before the tables were Delta tables."""


class DataRoot:
    """A data root on any fsspec filesystem (local, S3 through s3fs with the default AWS credential chain)."""

    def __init__(self, uri: str) -> None:
        self.uri = absolute_uri(uri).rstrip("/")
        self.fs, self.path = fsspec.core.url_to_fs(self.uri)

    def join(self, relative: str) -> str:
        """URI of a location under the root, in the root's own spelling (``s3a://`` for Spark on S3)."""
        return f"{self.uri}/{relative}"

    def relative(self, fs_path: str) -> str:
        """A path as the filesystem lists it, made relative to the root."""
        return self.fs._strip_protocol(fs_path).removeprefix(self.path.rstrip("/") + "/")

    def read_bytes(self, relative: str) -> bytes | None:
        """Content of an object, or None when there is none."""
        return self.read_versioned(relative)[0]

    def read_versioned(self, relative: str) -> tuple[bytes | None, str | None]:
        """Content of an object and the version a conditional write compares with (the ETag on S3, a SHA-256 of
        the content locally), read together; (None, None) when there is no object.

        S3 answers a missing key with 404 only to callers allowed ``s3:ListBucket`` on the bucket, else with 403:
        a refusal is reported as that missing permission rather than as an absent object or a traceback.
        """
        target = f"{self.path}/{relative}"
        try:
            if isinstance(self.fs, LocalFileSystem):
                content = self.fs.cat_file(target)
                return content, hashlib.sha256(content).hexdigest()
            return sync(self.fs.loop, self._get_with_etag, target)
        except FileNotFoundError:
            return None, None
        except PermissionError as error:
            if isinstance(self.fs, LocalFileSystem):
                raise
            raise PermissionError(
                f"Access denied reading {self.join(relative)}: the credentials need s3:ListBucket on the bucket "
                "(without an s3:prefix condition, or S3 answers a missing key with 403) and s3:GetObject on the "
                "key (`fruits-cloud policy instance-profile` grants both)."
            ) from error

    async def _get_with_etag(self, target: str) -> tuple[bytes, str]:
        """One GET: the body and the ETag of that very version (a HEAD then a GET could see two versions)."""
        bucket, key, _ = self.fs.split_path(target)
        response = await self.fs._call_s3("get_object", Bucket=bucket, Key=key)
        try:
            return await response["Body"].read(), response["ETag"]
        finally:
            response["Body"].close()

    def write_pointer(self, relative: str, content: bytes, expected: str | None) -> None:
        """Replace the object only if it is still the version read as ``expected`` (None: there was none), so two
        runs publishing at once cannot both win; the loser gets one sentence.

        On S3 a conditional PUT (``If-None-Match: *`` for the first pointer, ``If-Match: <ETag>`` after) decides
        on the server; locally an exclusive lock on the pointer's folder covers the compare and the rename.
        """
        target = f"{self.path}/{relative}"
        if isinstance(self.fs, LocalFileSystem):
            self._swap_locally(target, content, expected)
            return
        bucket, key, _ = self.fs.split_path(target)
        condition = {"IfNoneMatch": "*"} if expected is None else {"IfMatch": expected}
        try:
            self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=content, **condition)
        except PermissionError:
            raise
        except OSError as error:  # FileExistsError, 412 PreconditionFailed, 409 ConditionalRequestConflict
            if isinstance(error, (FileExistsError, FileNotFoundError)) or self._conditional_refusal(error):
                raise self._published_meanwhile(self.join(relative)) from error
            raise
        finally:
            self.fs.invalidate_cache(target)

    def _swap_locally(self, target: str, content: bytes, expected: str | None) -> None:
        """Compare and rename under an exclusive lock on the pointer's folder (no lock file left behind)."""
        folder = self.fs._parent(target)
        self.fs.makedirs(folder, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            current = hashlib.sha256(self.fs.cat_file(target)).hexdigest() if self.fs.exists(target) else None
            if current != expected:
                raise self._published_meanwhile(target)
            self.write_bytes_atomically(self.relative(target), content)
        finally:
            os.close(descriptor)  # releases the lock

    @staticmethod
    def _conditional_refusal(error: OSError) -> bool:
        """Whether S3 refused a conditional write: 412 (the condition failed) or 409 (a concurrent one)."""
        response = getattr(error.__cause__, "response", None) or {}
        return response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict")

    @staticmethod
    def _published_meanwhile(pointer: str) -> RuntimeError:
        return RuntimeError(
            f"Another run published {pointer} while this one ran: run the pipeline again; "
            "one run at a time per data root."
        )

    def read_text(self, relative: str) -> str | None:
        content = self.read_bytes(relative)
        return None if content is None else content.decode()

    def write_bytes_atomically(self, relative: str, content: bytes) -> None:
        """Readers see the old or the new content, never a partial one: one PUT on object stores (atomic by
        design), a write beside the target then a rename on a local filesystem."""
        target = f"{self.path}/{relative}"
        if isinstance(self.fs, LocalFileSystem):
            self.fs.makedirs(self.fs._parent(target), exist_ok=True)
            temporary = f"{target}.{secrets.token_hex(4)}.tmp"
            self.fs.pipe_file(temporary, content)
            os.replace(temporary, target)
        else:
            self.fs.pipe_file(target, content)

    def write_text_atomically(self, relative: str, text: str) -> None:
        self.write_bytes_atomically(relative, text.encode())

    def published(self) -> Publication:
        """What the pointer names now (an empty state before the first published run)."""
        return self.published_versioned()[0]

    def published_versioned(self) -> tuple[Publication, str | None]:
        """The published state and the pointer's version, for :meth:`write_pointer` when the run publishes."""
        content, version = self.read_versioned(POINTER)
        return (Publication.from_json(content.decode()) if content else Publication()), version

    def ledger(self, run_id: str) -> Publication | None:
        text = self.read_text(f"{RUNS}/{run_id}/{LEDGER}")
        return Publication.from_json(text) if text else None

    def run_ids(self) -> list[str]:
        """Every run folder, oldest first."""
        folder = f"{self.path}/{RUNS}"
        self.fs.invalidate_cache(folder)  # s3fs caches listings per process: a long session must see new runs
        if not self.fs.exists(folder):
            return []
        return sorted(self.relative(path).removeprefix(f"{RUNS}/") for path in self.fs.ls(folder, detail=False))


class Run:
    """The run in progress on one data root: what it started from and what it has written so far.

    The ledger is saved after every change, so a failed or killed run can be resumed (``kedro run --from-nodes``)
    or simply left behind: nothing reads it until it is published.
    """

    def __init__(self, root: DataRoot, ledger: Publication, resumed: bool = False) -> None:
        self.root = root
        self.ledger = ledger
        self.resumed = resumed
        self.base, self.base_version = root.published_versioned()

    @property
    def id(self) -> str:
        return str(self.ledger.run_id)

    def location(self, path: str) -> str:
        """Where this run writes the dataset ``path`` (relative to the root)."""
        return f"{RUNS}/{self.id}/{path}"

    def dataset_location(self, path: str) -> str | None:
        """Current version of a dataset: written by this run, else the published one."""
        return self.ledger.datasets.get(path) or self.base.datasets.get(path)

    def record_dataset(self, path: str, location: str) -> None:
        self.ledger.datasets[path] = location
        self.save()

    def table_version(self, table: str) -> int | None:
        """The version of a table this run reads: the one it committed last, else the published one (None: the
        table has never been published)."""
        return self.ledger.tables.get(table, self.base.tables.get(table))

    def record_table(self, table: str, version: int) -> None:
        self.ledger.tables[table] = version
        self.save()

    def table_digest(self, table: str) -> dict[str, Any] | None:
        """The digest of a table's rows (``version``, ``derived_by``, ``rows``, ``xor``) this run recorded last, else
        the published one; it describes the table's content at that version only."""
        return self.ledger.digests.get(table, self.base.digests.get(table))

    def record_digest(self, table: str, digest: dict[str, Any]) -> None:
        self.ledger.digests[table] = digest
        self.save()

    def save(self) -> None:
        self.root.write_text_atomically(f"{RUNS}/{self.id}/{LEDGER}", self.ledger.to_json())

    def publish(self) -> Publication:
        """Make this run current: its ledger, then the pointer (the one object readers follow)."""
        current = self.root.published()
        if current.run_id != self.base.run_id:
            raise RuntimeError(
                f"Run {current.run_id} was published while run {self.id} ran: run the pipeline again; "
                "one run at a time per data root."
            )
        publication = Publication(
            run_id=self.id,
            base_run_id=self.base.run_id,
            started_at=self.ledger.started_at,
            published_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            datasets={**self.base.datasets, **self.ledger.datasets},
            tables={**self.base.tables, **self.ledger.tables},
            digests={**self.base.digests, **self.ledger.digests},
        )
        self.ledger = publication
        self.save()
        self.root.write_pointer(POINTER, publication.to_json().encode(), self.base_version)
        logger.info("Published run %s: %s now names it", self.id, self.root.join(POINTER))
        return publication


def resumable_run(root: DataRoot) -> Publication | None:
    """The newest run that started from the published state and never published: what ``--from-nodes`` continues."""
    published = root.published()
    for run_id in reversed(root.run_ids()):
        if run_id == published.run_id:
            return None
        ledger = root.ledger(run_id)
        if ledger is not None and ledger.published_at is None and ledger.base_run_id == published.run_id:
            return ledger
    return None


def start_run(root: DataRoot, resume: bool) -> Run:
    """A new run, or the interrupted one when resuming (a fresh one when there is nothing to resume)."""
    base = root.published()
    interrupted = resumable_run(root) if resume else None
    if interrupted is not None:
        logger.info("Resuming run %s (started %s, not published)", interrupted.run_id, interrupted.started_at)
        return Run(root, interrupted, resumed=True)
    ledger = Publication(
        run_id=new_run_id(), base_run_id=base.run_id,
        started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    run = Run(root, ledger)
    run.save()
    logger.info("Run %s writes under %s", run.id, root.join(run.location("")))
    return run


def prune(root: DataRoot, keep_runs: int) -> list[str]:
    """Delete what the last ``keep_runs`` runs (and the pointer) no longer use; returns the locations deleted.

    Run folders are deleted whole unless a kept state still uses outputs in them (e.g. a PCA model that later runs
    reused). Tables keep no files in run folders: Delta Lake vacuums them.
    """
    run_ids = root.run_ids()
    published = root.published()
    kept_runs = set(run_ids[-keep_runs:]) | {published.run_id}
    in_use = set(published.datasets.values())
    for run_id in kept_runs & set(run_ids):
        ledger = root.ledger(run_id)
        in_use |= set(ledger.datasets.values()) if ledger else set()
    deleted = []
    for run_id in sorted(set(run_ids) - kept_runs):
        folder = f"{RUNS}/{run_id}"
        used = {location for location in in_use if location.startswith(folder + "/")}
        if not used:
            root.fs.rm(f"{root.path}/{folder}", recursive=True)
            deleted.append(folder)
            continue
        for path in root.fs.find(f"{root.path}/{folder}"):
            relative = root.relative(path)
            if not any(relative == location or relative.startswith(location + "/") for location in used):
                root.fs.rm_file(path)
                deleted.append(relative)
        _remove_empty_folders(root, folder)
    if deleted:
        logger.info("Pruned %d locations of runs older than the last %d", len(deleted), keep_runs)
    return deleted


def _remove_empty_folders(root: DataRoot, folder: str) -> None:
    """Folders emptied by pruning go too (object stores have none to remove)."""
    if not isinstance(root.fs, LocalFileSystem):
        return
    folders = [path for path, info in root.fs.find(f"{root.path}/{folder}", withdirs=True, detail=True).items()
               if info["type"] == "directory"]
    for path in sorted(folders, key=len, reverse=True):
        if not root.fs.ls(path):
            root.fs.rmdir(path)
