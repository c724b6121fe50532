"""A Parquet table kept as a list of files in the published pointer, changed by whole files: appends, removals
(rewriting only the files that held removed rows), replacement, and compaction of many small files.

Each run writes its files under its own folder, so a run costs what it changes, not what the table holds, and a
failed run changes nothing that readers see.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from kedro_datasets._typing import TablePreview
from pyspark.sql import DataFrame

from fruits.publishing import DataRoot, Run, active_run
from fruits.spark import active_spark
from fruits.tables import TABLE_SCHEMAS, spark_schema

TARGET_FILE_BYTES = 128 * 2**20  # the usual Parquet sweet spot: few files, each still split by row group
SMALL_FILE_BYTES = TARGET_FILE_BYTES // 2  # what compaction merges; larger files stay as they are


@dataclass(frozen=True)
class TableChange:
    """What a node asks of a table: rows to add, keys whose rows to remove (changed or deleted inputs), or a full
    replacement; compaction once the table holds more than ``compact_above_files`` small files."""

    add: DataFrame | None = None
    remove: pd.Series | None = None
    replace: bool = False
    compact_above_files: int | None = None


class TableDataset(AbstractDataset[Any, "TableChange | DataFrame"]):
    """A table of the data root ``path`` (``table``), its files written under ``runs/<run id>/<folder>/``.

    Loads: ``rows: all`` (default) the whole table as this run sees it, ``rows: added`` only the rows this run
    appended; as a Spark DataFrame, or with ``columns`` as a pandas DataFrame of just those columns (read with
    pyarrow on the driver: the store's keys, without a Spark job). Saving a DataFrame appends it; saving a
    :class:`TableChange` applies it.
    """

    def __init__(
        self,
        *,
        path: str,
        table: str,
        folder: str,
        key: str = "path",
        rows: str = "all",
        columns: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if table not in TABLE_SCHEMAS:
            raise DatasetError(f"Unknown table {table!r}: one of {', '.join(TABLE_SCHEMAS)}.")
        if rows not in ("all", "added"):
            raise DatasetError(f"rows must be 'all' or 'added', got {rows!r}.")
        self._root_uri = path
        self._table = table
        self._folder = folder
        self._key = key
        self._rows = rows
        self._columns = columns
        self.metadata = metadata

    @property
    def _schema(self) -> pa.Schema:
        return TABLE_SCHEMAS[self._table]

    def _files(self, run: Run | None) -> list[str]:
        if run is None:
            published = DataRoot(self._root_uri).published()
            return (published.added if self._rows == "added" else published.tables).get(self._table, [])
        return run.added_files(self._table) if self._rows == "added" else run.table_files(self._table)

    def load(self) -> Any:
        root = DataRoot(self._root_uri)
        files = self._files(active_run(self._root_uri))
        if self._columns is not None:
            return read_arrow(root, files, self._schema, self._columns).to_pandas()
        spark = active_spark()
        if not files:
            return spark.createDataFrame([], spark_schema(self._schema))
        return spark.read.schema(spark_schema(self._schema)).parquet(*(root.join(path) for path in files))

    def save(self, data: TableChange | DataFrame) -> None:
        change = data if isinstance(data, TableChange) else TableChange(add=data)
        run = active_run(self._root_uri)
        if run is None:
            raise DatasetError(f"Table {self._table} is written by `kedro run` only (each run in its own folder).")
        writer = _Writer(run, self._folder, self._schema)
        files = [] if change.replace else list(run.base.tables.get(self._table, []))
        if change.remove is not None and len(change.remove) and files:
            files = writer.remove_rows(files, self._key, change.remove)
        added = writer.write(change.add) if change.add is not None else []
        files = [*files, *added]
        if change.compact_above_files is not None:
            files = writer.compact_small_files(files, change.compact_above_files)
        run.record_table(self._table, files, added)

    def _exists(self) -> bool:
        return bool(self._files(active_run(self._root_uri)))

    def _describe(self) -> dict[str, Any]:
        return {"path": self._root_uri, "table": self._table, "folder": self._folder, "rows": self._rows,
                "columns": self._columns}

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first rows of the published table, vectors shortened, for kedro-viz (``--include-previews``)."""
        root = DataRoot(self._root_uri)
        files = self._files(None)[:1]
        frame = read_arrow(root, files, self._schema, None).slice(0, nrows).to_pandas()
        for name, field in zip(self._schema.names, self._schema, strict=True):
            if pa.types.is_list(field.type):
                frame[name] = frame[name].map(lambda vector: f"[{len(vector)} floats]")
        return TablePreview(frame.astype(str).to_dict(orient="split"))


def read_arrow(root: DataRoot, files: list[str], schema: pa.Schema, columns: list[str] | None) -> pa.Table:
    """Some columns of the table's files (all when None), read in parallel by pyarrow through the root's fsspec
    filesystem (local or S3)."""
    selected = schema if columns is None else pa.schema([schema.field(name) for name in columns])
    if not files:
        return selected.empty_table()
    return pq.read_table([f"{root.path}/{path}" for path in files], filesystem=root.fs, columns=selected.names,
                         schema=schema)


class _Writer:
    """Writes one run's files of a table; every write goes to a fresh sub-folder, so nothing is overwritten."""

    def __init__(self, run: Run, folder: str, schema: pa.Schema) -> None:
        self._run = run
        self._root = run.root
        self._folder = folder
        self._schema = schema

    def _new_location(self) -> str:
        return self._run.location(f"{self._folder}/{secrets.token_hex(4)}")

    def write(self, rows: DataFrame, partitions: int | None = None) -> list[str]:
        """Write ``rows`` with Spark to a new folder of this run; returns the new files."""
        location = self._new_location()
        target = rows.repartition(partitions) if partitions else rows
        target.write.mode("errorifexists").parquet(self._root.join(location))
        written = self._root.fs.glob(f"{self._root.path}/{location}/*.parquet")
        return sorted(self._root.relative(path) for path in written)

    def remove_rows(self, files: list[str], key: str, removed: pd.Series) -> list[str]:
        """Drop the rows whose ``key`` is in ``removed``: only the files holding some are rewritten (by pyarrow on
        the driver, one file at a time), the others are kept as they are."""
        gone = pa.array(removed.astype(str).unique(), type=pa.string())
        location = self._new_location()
        kept: list[str] = []
        for index, path in enumerate(files):
            keys = read_arrow(self._root, [path], self._schema, [key]).column(key)
            if not pc.any(pc.is_in(keys, value_set=gone)).as_py():
                kept.append(path)
                continue
            table = read_arrow(self._root, [path], self._schema, None)
            remaining = table.filter(pc.invert(pc.is_in(table.column(key), value_set=gone)))
            if remaining.num_rows:
                rewritten = f"{location}/part-{index:05d}.parquet"
                self._root.fs.makedirs(f"{self._root.path}/{location}", exist_ok=True)
                pq.write_table(remaining, f"{self._root.path}/{rewritten}", filesystem=self._root.fs)
                kept.append(rewritten)
        return kept

    def compact_small_files(self, files: list[str], above: int) -> list[str]:
        """Once more than ``above`` files are small (each run adds a few per task), rewrite the small ones with
        Spark into files of about ``TARGET_FILE_BYTES``; large files are kept, so a compaction costs the recent
        small additions, not the table."""
        if len(files) <= above:  # cannot hold more small files than that: no size request to the store
            return files
        sizes = dict(zip(files, self._root.fs.sizes([f"{self._root.path}/{path}" for path in files]), strict=True))
        small = [path for path in files if sizes[path] < SMALL_FILE_BYTES]
        if len(small) <= above:
            return files
        rows = active_spark().read.schema(spark_schema(self._schema)).parquet(
            *(self._root.join(path) for path in small)
        )
        merged = self.write(rows, partitions=max(1, math.ceil(sum(sizes[path] for path in small) / TARGET_FILE_BYTES)))
        return [path for path in files if path not in small] + merged
