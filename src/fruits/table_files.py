"""What runs in Spark's Python workers to append rows of packed vectors to a Delta table: each task writes its rows
to one Parquet file of the table's folder with pyarrow and returns the file's Delta ``add`` (path, size,
statistics); the driver commits them all at once (:class:`fruits.datasets.table.TableDataset`).

A packed vector is one binary value, its float32 values as little-endian bytes (:func:`pack_vectors`): the
featurization's workers give vectors so, the JVM passes each one on as one value instead of 1280 floats, and it is
unpacked here, without a copy, into the table's ``array<float>`` column. The JVM neither encodes nor writes the
vectors. Kept apart from the datasets so that a worker imports only NumPy, pyarrow and fsspec, not Kedro.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# One row per data file a task wrote: what a Delta ``add`` action records of it.
ADDED_FILE = pa.schema([("path", pa.string()), ("size", pa.int64()), ("stats", pa.string())])
ADDED_FILE_DDL = "path string, size long, stats string"
ROW_GROUP_BYTES = 64 * 2**20  # rows are buffered up to this much before they become a row group (Spark: 128 MiB)
PACKED_FLOAT = np.dtype("<f4")  # a packed vector's values


def pack_vectors(vectors: np.ndarray) -> list[bytes]:
    """Each row of ``vectors`` (a 2-D array) as one packed vector."""
    packed = np.ascontiguousarray(vectors, dtype=PACKED_FLOAT)
    return [row.tobytes() for row in packed]


def unpack_vectors(packed: pa.Array) -> pa.ListArray:
    """Packed vectors (binary) as a list<float32> array over the same bytes; a null stays null."""
    width = np.int64 if pa.types.is_large_binary(packed.type) else np.int32
    _, offsets_buffer, data = packed.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=width)[packed.offset:packed.offset + len(packed) + 1]
    if np.any(offsets % PACKED_FLOAT.itemsize):
        raise ValueError("A packed vector's length is not a whole number of float32 values.")
    values = np.frombuffer(data, dtype=PACKED_FLOAT, count=int(offsets[-1]) // PACKED_FLOAT.itemsize)
    return pa.ListArray.from_arrays(pa.array(offsets // PACKED_FLOAT.itemsize, pa.int32()), pa.array(values),
                                    mask=packed.is_null())


def typed_column(column: pa.Array, field: pa.Field) -> pa.Array:
    """A batch's column as the table types it; packed vectors unpacked."""
    if pa.types.is_list(field.type) and (pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type)):
        column = unpack_vectors(column)
    return column.cast(field.type)


def write_data_file(batches: Iterator[pa.RecordBatch], table_uri: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Write one task's rows (``batches``, with the table's columns, vectors packed or not) to a new Parquet file under
    ``table_uri``, typed as ``schema``; yields its :data:`ADDED_FILE` row (nothing for a task without rows: no empty
    file). With Delta's per-file statistics, which Spark's data skipping reads (e.g. to read one run's files)."""
    name = f"part-{uuid.uuid4()}.snappy.parquet"
    stats = FileStats(schema)
    with RowGroupWriter(f"{table_uri.rstrip('/')}/{name}", schema) as writer:
        for batch in batches:
            typed = pa.RecordBatch.from_arrays([typed_column(batch.column(n), schema.field(n)) for n in schema.names],
                                               schema=schema)
            stats.add(typed)
            writer.add(typed)
        size = writer.close()
    if stats.rows:
        yield pa.RecordBatch.from_pylist([{"path": name, "size": size, "stats": stats.json()}], schema=ADDED_FILE)


class RowGroupWriter:
    """A Parquet file written a row group of about :data:`ROW_GROUP_BYTES` at a time, opened at its first row (a
    task without rows leaves no file). Snappy-compressed like Spark's files, with a dictionary for every column but
    the vectors (nearly distinct floats: a dictionary would be built, then dropped)."""

    def __init__(self, uri: str, schema: pa.Schema) -> None:
        self._uri, self._schema = uri, schema
        self._dictionary = [field.name for field in schema if not pa.types.is_list(field.type)]
        self._file: Any = None
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0

    def __enter__(self) -> RowGroupWriter:
        return self

    def __exit__(self, *error: object) -> None:
        if self._file is not None:
            self._file.close()  # after a failure: the partial file is no table's (VACUUM deletes it)

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._pending.append(batch)
        self._pending_bytes += batch.nbytes
        if self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def close(self) -> int:
        """Write what is pending and close the file; returns its size in bytes (0: no file)."""
        if self._pending:
            self._flush()
        if self._writer is None:
            return 0
        self._writer.close()
        self._file.close()
        self._file = None
        fs, path = fsspec.core.url_to_fs(self._uri)
        return int(fs.size(path))

    def _flush(self) -> None:
        if self._writer is None:
            self._file = fsspec.open(self._uri, "wb").open()
            self._writer = pq.ParquetWriter(self._file, self._schema, compression="snappy",
                                            use_dictionary=self._dictionary)
        rows = pa.Table.from_batches(self._pending)
        self._writer.write_table(rows, row_group_size=rows.num_rows)
        self._pending, self._pending_bytes = [], 0


class FileStats:
    """Delta's statistics of one data file: its rows, each column's nulls, and the least and greatest value of each
    string column (what data skipping compares with a filter's literal; other types' bounds are left out, which
    Delta reads as unknown)."""

    def __init__(self, schema: pa.Schema) -> None:
        self.rows = 0
        self._nulls = dict.fromkeys(schema.names, 0)
        self._bounded = [field.name for field in schema if pa.types.is_string(field.type)]
        self._least: dict[str, Any] = {}
        self._greatest: dict[str, Any] = {}

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        for name in self._nulls:
            self._nulls[name] += batch.column(name).null_count
        for name in self._bounded:
            bounds = pc.min_max(batch.column(name))
            if bounds["min"].is_valid:
                least, greatest = bounds["min"].as_py(), bounds["max"].as_py()
                self._least[name] = min(self._least.get(name, least), least)
                self._greatest[name] = max(self._greatest.get(name, greatest), greatest)

    def json(self) -> str:
        return json.dumps({"numRecords": self.rows, "minValues": self._least, "maxValues": self._greatest,
                           "nullCount": self._nulls})
