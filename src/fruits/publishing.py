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

import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import fsspec
from fsspec.implementations.local import LocalFileSystem

logger = logging.getLogger(__name__)

POINTER = "current.json"
RUNS = "runs"
LEDGER = "_run.json"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by start time (UTC, to the microsecond), unique across machines: ``20261129T171502.123456Z-3fa9``."""
    return f"{(now or datetime.now(timezone.utc)):%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(2)}"


def absolute_uri(uri: str) -> str:
    """Executors and Spark run elsewhere than the driver's working directory: local paths are made absolute."""
    return uri if "://" in uri else os.path.abspath(uri)


@dataclass
class Publication:
    """The state a pointer names: which run, where each dataset's current version is, each table's Delta version.

    Locations are relative to the data root, so a root can be copied or moved as a whole.
    """

    run_id: str | None = None
    base_run_id: str | None = None
    started_at: str | None = None
    published_at: str | None = None
    datasets: dict[str, str] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> Publication:
        content = json.loads(text)
        if "added" in content or any(isinstance(version, list) for version in content.get("tables", {}).values()):
            raise LegacyLayoutError(  # fruits.migration converts it
                "This data root holds tables as Parquet file lists (the layout before Delta Lake): convert it once "
                "with `fruits migrate-tables`, then run again."
            )
        return cls(**content)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"



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
        try:
            return self.fs.cat_file(f"{self.path}/{relative}")
        except FileNotFoundError:
            return None

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
        text = self.read_text(POINTER)
        return Publication.from_json(text) if text else Publication()

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
        self.base = root.published()

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
        )
        self.ledger = publication
        self.save()
        self.root.write_text_atomically(POINTER, publication.to_json())
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
