"""A Delta Lake table of the data root, read at the version the run sees and changed by Spark writes: appends,
MERGE deletes of changed or deleted images, a MERGE that makes the table hold a given set of rows (only the rows
that differ are written), a full replacement, and Delta's own compaction (OPTIMIZE).

Within a run, a table reads as this run last committed it, else as published; before a run's change, a table whose
newest version is something else (commits of a run that was killed before publishing) is restored to that version
first, so every change applies to exactly what the node read. Outside a run, the published version is read.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
from delta.tables import DeltaTable
from deltalake import DeltaTable as DeltaReader
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from kedro_datasets._typing import TablePreview
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from fruits.datasets.binding import RunBound
from fruits.datasets.run import Unchanged, printable
from fruits.publishing import DataRoot
from fruits.spark import existing_spark
from fruits.tables import TABLES, Table, spark_schema

logger = logging.getLogger(__name__)

Rows = DataFrame | pd.DataFrame
GONE = "_gone"  # a sync's change that deletes its key
REMOVED, ADDED = "_removed", "_added"  # the digest's hash of the row a sync's change removes, of the row it adds
KEY_HASH = "_key_hash"  # what a sync joins on first
OLD_ROW, NEW_ROW = "_old_row", "_new_row"  # the hash of a key's whole row in the table, in the sync's rows
Digest = dict[str, int]  # rows and the XOR of their hashes: what a table holds, without its rows (its content)


@dataclass(frozen=True)
class TableChange:
    """What a node asks of a table: rows to add, keys (``key`` columns) whose rows to remove, a replacement of
    every row by ``add``, ``sync``: the rows the table must hold, merged in by key so that a run that changes
    nothing writes nothing, or ``upsert``: rows to hold by key, inserted or updated, the others kept (applying the
    same upsert twice, as a resumed run does, changes nothing the second time).

    For a sync to a table kept by digest (:attr:`fruits.tables.Table.digest`), ``sync`` may hold the digest's
    columns only, with ``derive``, which gives the table's rows from them (row by row, by column expressions), and
    ``derived_by``, a fingerprint of those expressions. A digest recorded with another derivation does not describe
    these rows, and the sync compares whole rows with the table; else it compares the digest's columns and derives
    the others for the rows that changed only."""

    add: Rows | None = None
    remove: Rows | None = None
    replace: bool = False
    sync: DataFrame | None = None
    upsert: DataFrame | None = None
    derive: Callable[[DataFrame], DataFrame] | None = None
    derived_by: str = ""

    @property
    def synced_rows(self) -> DataFrame | None:
        """The whole rows a sync asks the table to hold (derived, when the change derives them)."""
        if self.sync is None or self.derive is None:
            return self.sync
        return self.derive(self.sync)

    @property
    def nothing(self) -> bool:
        """Whether the change asks for nothing (to a table that exists: no commit)."""
        return (self.add is None and self.remove is None and self.sync is None and self.upsert is None
                and not self.replace)


@dataclass(frozen=True)
class TableChanges:
    """How a table changed from version ``since`` to version ``until``: per key, its row ``before`` and ``after``
    (structs of the table's columns, null where the key had no row), from Delta's change data feed; a key whose
    row is the same at both ends is not there (:func:`net_changes`)."""

    since: int
    until: int
    rows: DataFrame


class TableDataset(RunBound, AbstractDataset[Any, "TableChange | Rows"]):
    """The Delta table ``table`` (:data:`fruits.tables.TABLES`) under the data root ``path``.

    Loads a Spark DataFrame; with ``columns``, a pandas DataFrame of just those columns (for small tables only);
    with ``rows: run``, only the rows the run in progress added (``run_id``); with ``published: true``, the
    version the run started from (read-only: what the previous run published, to compare with; None before the
    first publication). Saving a DataFrame (Spark or pandas) appends it; saving a :class:`TableChange` applies it;
    saving ``UNCHANGED`` commits nothing.
    Once the table holds more than ``compact_above_files`` files, a save ends with Delta's OPTIMIZE (bin-packing of
    small files into large ones).

    For a table kept by digest (:attr:`fruits.tables.Table.digest`: the listing), the run records the digest of the
    table's rows (:func:`row_digest` of the digest's columns, and the sync's ``derived_by``) at each version it
    leaves, and a sync first compares the digest of the rows it is given with it: when they are equal, the table
    already holds them, and neither the table nor a join is read. One pass over a source that rarely changes, and
    over only the columns the others derive from (Spark then computes no other column), instead of a join of it
    with the table.
    """

    def __init__(
        self,
        *,
        path: str,
        table: str,
        key: list[str] | None = None,
        rows: str = "all",
        published: bool = False,
        columns: list[str] | None = None,
        compact_above_files: int = 64,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if table not in TABLES:
            raise DatasetError(f"Unknown table {table!r}: one of {', '.join(TABLES)}.")
        if rows not in ("all", "run"):
            raise DatasetError(f"rows must be 'all' or 'run', got {rows!r}.")
        self._root_uri = path
        self._table: Table = TABLES[table]
        self._key = key or ["path"]
        self._rows = rows
        self._published = published
        self._columns = columns
        self._compact_above_files = compact_above_files
        self.metadata = metadata

    @property
    def uri(self) -> str:
        return DataRoot(self._root_uri).join(self._table.location)

    def _spark(self) -> SparkSession:
        return self._context.spark() if self._context else existing_spark()

    def _version(self) -> int | None:
        if self._context is not None and self._published:
            return self._context.run.base.tables.get(self._table.name)
        if self._context is not None:
            return self._context.run.table_version(self._table.name)
        return DataRoot(self._root_uri).published().tables.get(self._table.name)

    def load(self) -> Any:
        spark = self._spark()
        version = self._version()
        if version is None and self._published:
            return None  # nothing published yet: nothing to compare with
        if version is None:
            if self._context is None:
                raise DatasetError(f"No {self._table.name} table has been published under {self._root_uri} yet: "
                                   "run `kedro run` first.")
            rows = spark.createDataFrame([], spark_schema(self._table.schema))
        else:
            rows = spark.read.format("delta").option("versionAsOf", version).load(self.uri)
        if self._rows == "run":
            run_id = self._context.run.id if self._context else DataRoot(self._root_uri).published().run_id
            rows = rows.where(F.col("run_id") == run_id)
        if self._columns is not None:
            return utc_timestamps(rows.select(*self._columns).toPandas(), self._table.schema)
        return rows

    def save(self, data: TableChange | Rows | Unchanged) -> None:
        if self._context is None or self._published:
            raise DatasetError(f"Table {self._table.name} is written by `kedro run` only, and only at the run's own "
                               "version.")
        if isinstance(data, Unchanged):
            return  # the version this run reads stays
        change = data if isinstance(data, TableChange) else TableChange(add=data)
        spark = self._context.spark()
        newest = table_state(self.uri)
        if newest is not None and change.nothing:
            return  # nothing to change: no commit, the version this run reads stays
        if newest is not None:
            self._start_from(spark, newest.version, self._context.run.table_version(self._table.name))
        recorded = self._recorded_digest(change.derived_by)
        if (change.sync is not None and newest is not None and recorded is not None
                and row_digest(self._frame(spark, change.sync, list(self._table.digest))) == _content(recorded)):
            logger.info("The %s table already holds these rows (the same digest): nothing to compare or write",
                        self._table.name)
            return
        if newest is not None and self._table.change_feed and not table_state(self.uri).change_feed:
            # a table made before it recorded its changes (or restored to such a version) records them from now on
            spark.sql(f"ALTER TABLE delta.`{self.uri.replace('`', '``')}` "
                      "SET TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')")
        difference = self._apply(spark, change, exists=newest is not None, digest_trusted=recorded is not None)
        written = table_state(self.uri)
        committed = newest is None or written.version != newest.version  # else the version this run reads stays
        if committed and written.files > self._compact_above_files:
            DeltaTable.forPath(spark, self.uri).optimize().executeCompaction()
            written = table_state(self.uri)
        if committed:
            self._context.run.record_table(self._table.name, written.version)
        self._keep_digest(spark, written.version if committed else None, recorded, difference, change.derived_by)

    def _apply(self, spark: SparkSession, change: TableChange, exists: bool, digest_trusted: bool) -> Digest | None:
        """Write ``change`` (to a table that does not exist yet: its rows, whatever the kind of change); returns how
        a sync changed the table's digest (:meth:`_sync`). A sync that derives columns compares only the digest's
        columns when the table's digest is trusted: its other columns were derived alike."""
        columns = self._table.schema.names
        if not exists:
            change = TableChange(add=change.synced_rows if change.sync is not None else
                                 change.upsert if change.upsert is not None else change.add)
        difference = None
        if change.sync is not None and change.derive is not None and digest_trusted:
            difference = self._sync(spark, self._frame(spark, change.sync, list(self._table.digest)), change.derive)
        elif change.sync is not None:
            difference = self._sync(spark, self._frame(spark, change.synced_rows, columns))
        if change.remove is not None and exists:
            self._delete(spark, self._frame(spark, change.remove, self._key))
        if change.upsert is not None:
            self._upsert(spark, self._frame(spark, change.upsert, columns))
        if change.add is not None or change.replace or not exists:
            writer = self._frame(spark, change.add, columns).write.format("delta")
            # a replacement also replaces the columns of a table another layout wrote
            writer = writer.mode("overwrite" if change.replace else "append").option("overwriteSchema", change.replace)
            if not exists and self._table.change_feed:
                writer = writer.option("delta.enableChangeDataFeed", "true")  # a table property, set on creation
            writer.save(self.uri)
        return difference

    def _recorded_digest(self, derived_by: str) -> dict[str, Any] | None:
        """The recorded digest of the version this run reads, None when there is none for it (never recorded, or
        recorded for another version or another derivation of the other columns)."""
        if not self._table.digest or self._context is None:
            return None
        recorded = self._context.run.table_digest(self._table.name)
        version = self._context.run.table_version(self._table.name)
        trusted = recorded is not None and recorded["version"] == version and recorded.get("derived_by") == derived_by
        return recorded if trusted else None

    def _keep_digest(self, spark: SparkSession, committed: int | None, before: dict[str, Any] | None,
                     difference: Digest | None, derived_by: str) -> None:
        """Record the digest of the version a save leaves (``committed``, None when it committed nothing): the one
        before combined with what the sync changed (the digest is an XOR, so rows removed and rows added fold in
        alike), else the table's rows read once (a first write, or no trusted digest yet)."""
        if not self._table.digest or (committed is None and before is not None):
            return  # no digest kept, or the recorded one still describes the version this run reads
        version = self._context.run.table_version(self._table.name) if committed is None else committed
        if committed is not None and before is not None and difference is not None:
            content = {"rows": before["rows"] + difference["rows"], "xor": before["xor"] ^ difference["xor"]}
        else:
            table = spark.read.format("delta").option("versionAsOf", version).load(self.uri)
            content = row_digest(table.select(*self._table.digest))
        self._context.run.record_digest(self._table.name, {"version": version, "derived_by": derived_by, **content})

    def _start_from(self, spark: SparkSession, newest: int, version: int | None) -> None:
        """Make the newest version what this run read (see the module docstring)."""
        if version is None:
            DeltaTable.forPath(spark, self.uri).delete()  # commits of a first run that never published
        elif newest != version:
            DeltaTable.forPath(spark, self.uri).restoreToVersion(version)

    def _frame(self, spark: SparkSession, rows: Rows | None, columns: list[str]) -> DataFrame:
        """Spark rows of the table's types in its column order (pandas rows are converted with its schema)."""
        schema = spark_schema(pa.schema([self._table.schema.field(name) for name in columns]))
        if rows is None:
            return spark.createDataFrame([], schema)
        if isinstance(rows, pd.DataFrame):
            values = rows[columns].astype(object)
            return spark.createDataFrame(values.where(values.notna(), None), schema)
        if "run_id" in columns and "run_id" not in rows.columns and self._context is not None:
            rows = rows.withColumn("run_id", F.lit(self._context.run.id))  # which run wrote the row
        return rows.select(*(F.col(field.name).cast(field.dataType) for field in schema.fields))

    def _delete(self, spark: SparkSession, keys: DataFrame) -> None:
        """Remove the rows whose key is among ``keys`` (one MERGE; files without such rows are kept as they are)."""
        condition = " AND ".join(f"table.`{name}` = gone.`{name}`" for name in self._key)
        (DeltaTable.forPath(spark, self.uri).alias("table")
         .merge(keys.dropDuplicates().alias("gone"), condition).whenMatchedDelete().execute())

    def _upsert(self, spark: SparkSession, rows: DataFrame) -> None:
        """Hold ``rows`` (unique by key): one MERGE inserts the new keys and updates the rows that differ; rows the
        table already holds as they are are not rewritten."""
        on = " AND ".join(f"table.`{name}` = change.`{name}`" for name in self._key)
        differs = " OR ".join(f"NOT (table.`{name}` <=> change.`{name}`)" for name in rows.columns
                              if name not in self._key)
        values = {f"`{name}`": f"change.`{name}`" for name in rows.columns}
        (DeltaTable.forPath(spark, self.uri).alias("table").merge(rows.alias("change"), on)
         .whenMatchedUpdate(condition=differs or None, set=values).whenNotMatchedInsert(values=values).execute())

    def _sync(self, spark: SparkSession, rows: DataFrame,
              derive: Callable[[DataFrame], DataFrame] | None = None) -> Digest | None:
        """Make the table hold exactly ``rows`` (unique by key; with ``derive``, the rows it gives from them): one
        join finds the rows that are new or differ and the keys no longer there, and one aggregation counts them.
        The table's side of the join is its keys and a :func:`row_hash` of each row's compared columns, and both
        sides are joined on a hash of the key before the key itself: the shuffle carries one wide side instead of
        two, and its sort compares numbers. A row differs when its hash does (two different rows share one with a
        chance of 2^-64, as for the digest). Only the changed rows are derived. When there are only new rows (photos
        that arrived), they are appended: no MERGE, whose search for matching rows reads the whole table. Otherwise
        one MERGE inserts, updates and deletes them (files without such rows are kept as they are). A run that
        changes nothing commits nothing. Returns how the table's digest changed (rows added less rows removed, and
        the XOR of their hashes of the digest's columns) when it keeps one and something changed."""
        key_hash = F.xxhash64(*(F.col(name) for name in self._key)).alias(KEY_HASH)
        compared = rows.columns
        digested = list(self._table.digest) or compared
        current = DeltaTable.forPath(spark, self.uri).toDF()
        old = current.select(key_hash, *self._key, row_hash(compared).alias(OLD_ROW), row_hash(digested).alias(REMOVED))
        new = rows.select(key_hash, *compared, row_hash(compared).alias(NEW_ROW), row_hash(digested).alias(ADDED))
        changes = new.join(old, [KEY_HASH, *self._key], "full_outer").where(
            ~F.col(NEW_ROW).eqNullSafe(F.col(OLD_ROW))
        ).select(*compared, F.col(NEW_ROW).isNull().alias(GONE), REMOVED, ADDED).persist()
        try:
            counted = self._count_changes(changes)  # before the write, which makes Spark recompute ``changes``
            # against the table it changed
            if counted["changes"] == 0:
                return None
            held = changes.where(~F.col(GONE)).select(*compared)
            held = self._frame(spark, derive(held) if derive else held, self._table.schema.names)
            if counted["existing"] == 0:
                held.write.format("delta").mode("append").save(self.uri)
            else:
                gone = changes.where(F.col(GONE)).select(*self._key, GONE)
                source = held.withColumn(GONE, F.lit(False)).unionByName(gone, allowMissingColumns=True)
                on = " AND ".join(f"table.`{name}` = change.`{name}`" for name in self._key)
                values = {f"`{name}`": f"change.`{name}`" for name in held.columns}
                (DeltaTable.forPath(spark, self.uri).alias("table").merge(source.alias("change"), on)
                 .whenMatchedDelete(condition=f"change.{GONE}").whenMatchedUpdate(set=values)
                 .whenNotMatchedInsert(condition=f"NOT change.{GONE}", values=values).execute())
            return {"rows": counted["rows"], "xor": counted["xor"]} if self._table.digest else None
        finally:
            changes.unpersist()

    @staticmethod
    def _count_changes(changes: DataFrame) -> dict[str, int]:
        """A sync's changes in one aggregation: how many, how many touch a row the table holds (an update or a
        deletion), and how they move the table's digest (rows added less rows removed, and the XOR of both)."""
        row = changes.agg(F.count(F.lit(1)).alias("changes"), F.count(REMOVED).alias("existing"),
                          (F.count(ADDED) - F.count(REMOVED)).alias("rows"),
                          F.bit_xor(REMOVED).alias("removed"), F.bit_xor(ADDED).alias("added")).first()
        return {"changes": row["changes"], "existing": row["existing"], "rows": row["rows"],
                "xor": (row["removed"] or 0) ^ (row["added"] or 0)}

    def _exists(self) -> bool:
        return self._version() is not None

    def problem(self) -> str | None:
        """Why the published version of this table cannot be read (a log deleted or corrupted by hand, a table
        folder gone), in one sentence; None when it can. Read with delta-rs: no JVM, a second before slow work."""
        version = DataRoot(self._root_uri).published().tables.get(self._table.name)
        if version is None:
            return None
        try:
            delta_reader(self.uri, version)
        except Exception as error:  # delta-rs raises its own error types for each way a log can be broken
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            return (f"The {self._table.name} table at {self.uri} cannot be read at its published version {version} "
                    f"({reason}): restore the table's folder, _delta_log/ included, from a backup, or move the data "
                    "root aside to start afresh.")
        return None

    def _describe(self) -> dict[str, Any]:
        return {"path": self._root_uri, "table": self._table.name, "rows": self._rows, "columns": self._columns,
                "published": self._published}

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first rows of the published version, vectors shortened, for kedro-viz (``--include-previews``): read
        with delta-rs, no Spark; every value a string, so that the preview serialises."""
        version = DataRoot(self._root_uri).published().tables.get(self._table.name)
        if version is None:
            return TablePreview({"columns": [], "data": []})
        frame = delta_reader(self.uri, version).to_pyarrow_dataset().head(nrows).to_pandas()
        return printable(frame.astype(object).where(frame.notna(), None).to_dict(orient="split"))


class TableChangesDataset(RunBound, AbstractDataset[None, "TableChanges | None"]):
    """How the table ``table`` (one that records its changes: :attr:`fruits.tables.Table.change_feed`) changed from
    its published version to the one this run reads, as a :class:`TableChanges` read from Delta's change data feed:
    a node then handles what changed instead of comparing two whole versions. None before the first publication, or
    when the feed does not cover those versions (a table made before it recorded its changes): the node compares
    whole versions then. Read-only, within a run."""

    def __init__(self, *, path: str, table: str, key: list[str] | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        if table not in TABLES or not TABLES[table].change_feed:
            recording = ", ".join(name for name, known in TABLES.items() if known.change_feed)
            raise DatasetError(f"The {table} table's changes are not recorded: name one of {recording}.")
        self._root_uri = path
        self._table = TABLES[table]
        self._key = key or ["path"]
        self.metadata = metadata

    @property
    def uri(self) -> str:
        return DataRoot(self._root_uri).join(self._table.location)

    def load(self) -> TableChanges | None:
        if self._context is None:
            raise DatasetError(f"The changes of the {self._table.name} table are read within `kedro run` only.")
        spark = self._context.spark()
        since = self._context.run.base.tables.get(self._table.name)
        until = self._context.run.table_version(self._table.name)
        if since is None or until is None:
            return None
        columns = self._table.schema.names
        if since == until:  # no version to read: a feed without rows
            nothing = spark.createDataFrame([], spark_schema(self._table.schema))
            feed = nothing.select("*", F.lit("insert").alias("_change_type"), F.lit(0).alias("_commit_version"))
            return TableChanges(since, until, net_changes(feed, self._key, columns))
        if not records_changes(self.uri, since + 1, until):
            logger.info("The %s table's changes from version %d to %d are not all recorded (it did not record its "
                        "changes then): whole versions are compared", self._table.name, since, until)
            return None
        feed = (spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", since + 1)
                .option("endingVersion", until).load(self.uri))
        return TableChanges(since, until, net_changes(feed, self._key, columns))

    def save(self, data: TableChanges | None) -> None:
        raise DatasetError(f"The {self._table.name} table's changes are read-only: the table changes by its own "
                           "dataset.")

    def _describe(self) -> dict[str, Any]:
        return {"path": self._root_uri, "table": self._table.name, "key": self._key}


class TableVersionsDataset(RunBound, AbstractDataset[dict[str, int | None], dict[str, int | None]]):
    """The versions of ``tables`` (names in :data:`fruits.tables.TABLES`) this run reads: the one it committed
    last, else the published one (None: never published); outside a run, the published ones; with ``published:
    true``, the published ones in a run too (those it started from). Read-only: a node compares them with the
    versions an output was made from, to keep that output when its tables did not change. Loaded when its node
    runs, so that node must come after the nodes that write these tables."""

    def __init__(self, *, path: str, tables: list[str], published: bool = False,
                 metadata: dict[str, Any] | None = None) -> None:
        unknown = sorted(set(tables) - set(TABLES))
        if unknown:
            raise DatasetError(f"Unknown tables {', '.join(unknown)}: each one of {', '.join(TABLES)}.")
        self._root_uri = path
        self._tables = list(tables)
        self._published = published
        self.metadata = metadata

    def load(self) -> dict[str, int | None]:
        if self._context is not None and self._published:
            return {name: self._context.run.base.tables.get(name) for name in self._tables}
        if self._context is not None:
            return {name: self._context.run.table_version(name) for name in self._tables}
        published = DataRoot(self._root_uri).published().tables
        return {name: published.get(name) for name in self._tables}

    def save(self, data: dict[str, int | None]) -> None:
        raise DatasetError(f"Table versions ({', '.join(self._tables)}) are read-only: tables change by their own "
                           "datasets.")

    def _describe(self) -> dict[str, Any]:
        return {"path": self._root_uri, "tables": self._tables, "published": self._published}


def net_changes(feed: DataFrame, key: list[str], columns: list[str]) -> DataFrame:
    """Per key in Delta's change feed ``feed`` (its ``_change_type`` and ``_commit_version`` columns), the row before
    the first version read and after the last (``before``, ``after``: structs of ``columns``, null where the key had
    no row), without the keys whose row is the same at both ends. A key changed in several commits, or taken out and
    put back (a RESTORE removes and adds whole files), counts once, by its ends; within a commit a removal comes
    before an addition."""
    removal = F.col("_change_type").isin("delete", "update_preimage")
    order = F.struct(F.col("_commit_version"), F.when(removal, 0).otherwise(1))
    event = F.struct(removal.alias("removal"), F.struct(*columns).alias("row"))
    ends = feed.groupBy(*key).agg(F.min_by(event, order).alias("first"), F.max_by(event, order).alias("last"))
    before = F.when(F.col("first.removal"), F.col("first.row"))
    after = F.when(~F.col("last.removal"), F.col("last.row"))
    return ends.select(*key, before.alias("before"), after.alias("after")).where(~before.eqNullSafe(after))


def row_hash(columns: list[str], prefix: str = "") -> Column:
    """A 64-bit hash of a row's values, a null told apart from any value."""
    values = [F.col(f"{prefix}{name}") for name in columns]
    return F.xxhash64(*values, *(value.isNull() for value in values))


def row_digest(rows: DataFrame) -> Digest:
    """What a set of rows holds, in one aggregation: their number and the XOR of their :func:`row_hash`. Two sets
    of distinct rows differ in digest but with a chance of 2^-64; a row added and a row removed fold in alike."""
    row = rows.agg(F.count(F.lit(1)).alias("rows"), F.bit_xor(row_hash(rows.columns)).alias("xor")).first()
    return {"rows": row["rows"], "xor": row["xor"] or 0}


def _content(digest: Digest) -> Digest:
    """A recorded digest without the version it describes: what :func:`row_digest` gives for the same rows."""
    return {"rows": digest["rows"], "xor": digest["xor"]}


def delta_reader(uri: str, version: int | None = None) -> DeltaReader:
    """delta-rs' reader of a table (local or S3, no Spark): ``s3a://`` is spelt ``s3://``, credentials and
    ``AWS_ENDPOINT_URL`` come from the environment as for boto3 (an ``http://`` endpoint, e.g. a local S3, is
    allowed)."""
    return DeltaReader(uri.replace("s3a://", "s3://", 1), version=version, storage_options=_storage_options())


def _storage_options() -> dict[str, str]:
    return {"AWS_ALLOW_HTTP": "true"} if os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://") else {}


@dataclass(frozen=True)
class TableState:
    version: int
    files: int
    change_feed: bool  # whether the table records its changes (``delta.enableChangeDataFeed``)


def is_table(uri: str) -> bool:
    """Whether a Delta table is at ``uri`` (its log's first file is there), without reading its log."""
    return DeltaReader.is_deltatable(uri.replace("s3a://", "s3://", 1), _storage_options())


def table_state(uri: str) -> TableState | None:
    """The newest version of the table at ``uri`` and its number of data files, None when there is no table: read
    from the log by delta-rs, in milliseconds, where Spark would run a job for each."""
    if not is_table(uri):
        return None
    reader = delta_reader(uri)
    return TableState(reader.version(), len(reader.file_uris()), _change_feed_on(reader))


def records_changes(uri: str, first: int, last: int) -> bool:
    """Whether the table at ``uri`` recorded its changes (Delta's change data feed) at every version from ``first``
    to ``last``, read from its log by delta-rs: Spark would find out only when a job reads the feed."""
    reader = delta_reader(uri, first)
    for version in range(first, last + 1):
        if version != first:
            reader.load_as_version(version)
        if not _change_feed_on(reader):
            return False
    return True


def _change_feed_on(reader: DeltaReader) -> bool:
    return reader.metadata().configuration.get("delta.enableChangeDataFeed", "false").lower() == "true"


def read_published(root_uri: str, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """The published version of a table as pandas, without Spark (what ``fruits-cloud results`` shows)."""
    root = DataRoot(root_uri)
    version = root.published().tables.get(table)
    if version is None:
        return TABLES[table].schema.empty_table().to_pandas()
    return delta_reader(root.join(TABLES[table].location), version).to_pandas(columns=columns)


def utc_timestamps(frame: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    """Timestamps as the table types them (UTC): Spark hands them to pandas without their time zone."""
    for name in frame.columns:
        if pa.types.is_timestamp(schema.field(name).type) and frame[name].dt.tz is None:
            frame[name] = frame[name].dt.tz_localize("UTC")
    return frame


def vacuum(spark: SparkSession, root_uri: str, retention_hours: float, tables: Iterable[str]) -> None:
    """Delete the files of each of ``tables`` (those a run changed: the others hold no new unused files) that no
    version younger than ``retention_hours`` uses (Delta's VACUUM): time travel to a published version keeps working
    for that long. VACUUM commits nothing (``spark.databricks.delta.vacuum.logging.enabled`` is off), so the versions
    the pointer names stay the tables' newest."""
    root = DataRoot(root_uri)
    for name in tables:
        uri = root.join(TABLES[name].location)
        if is_table(uri) and expired_files(uri, retention_hours):
            DeltaTable.forPath(spark, uri).vacuum(retention_hours)


def expired_files(uri: str, retention_hours: float) -> list[str]:
    """The files VACUUM would delete from the table at ``uri``, listed by delta-rs without Spark: a run that
    replaced nothing old enough (most runs) then starts no Spark job for it. Files no version references, e.g. a
    failed write's, count too (``full``)."""
    return delta_reader(uri).vacuum(retention_hours=math.ceil(retention_hours), dry_run=True,
                                    enforce_retention_duration=False, full=True)
