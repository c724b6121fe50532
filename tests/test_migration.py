"""fruits migrate-tables: a data root of the Parquet-file layout becomes Delta tables, with the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fruits.datasets.table import read_published
from fruits.migration import migrate_tables
from fruits.publishing import DataRoot, prune

LEGACY_RESULTS = pa.schema([("path", pa.string()), ("label", pa.string()), ("change_key", pa.string()),
                            ("features", pa.list_(pa.float32())), ("pca_features", pa.list_(pa.float32()))])
LEGACY_REJECTS = pa.schema([("path", pa.string()), ("label", pa.string()), ("reject_kind", pa.string()),
                            ("reject_detail", pa.string())])


def legacy_root(root: Path) -> dict:
    """What the Parquet-file layout left: result files in two run folders, a rejects file, the pointer, ledgers."""
    runs = ["20261201T000000.000000Z-aaaa", "20261202T000000.000000Z-bbbb"]
    files = []
    for number, run_id in enumerate(runs):
        folder = root / "runs" / run_id / "07_model_output" / "results" / "f00d"
        folder.mkdir(parents=True)
        rows = [{"path": f"file:///t/Kiwi/{number}-{index}.jpg", "label": "Kiwi", "change_key": "k",
                 "features": [1.0, 2.0], "pca_features": [0.5]} for index in range(3)]
        pq.write_table(pa.Table.from_pylist(rows, LEGACY_RESULTS), folder / "part-00000.parquet")
        files.append(f"runs/{run_id}/07_model_output/results/f00d/part-00000.parquet")
    rejects = f"runs/{runs[1]}/07_model_output/rejects.parquet"
    pq.write_table(pa.Table.from_pylist([{"path": "file:///t/x.jpg", "label": None,
                                          "reject_kind": "not in a class folder", "reject_detail": None}],
                                        LEGACY_REJECTS), root / rejects)
    pointer = {"run_id": runs[1], "base_run_id": runs[0], "started_at": "s", "published_at": "p",
               "datasets": {"07_model_output/rejects.parquet": rejects}, "tables": {"results": files},
               "added": {"results": files[1:]}}
    for run_id in runs:
        ledger = {**pointer, "run_id": run_id, "tables": {"results": files[:1]}} if run_id == runs[0] else pointer
        (root / "runs" / run_id / "_run.json").write_text(json.dumps(ledger))
    (root / "current.json").write_text(json.dumps(pointer))
    return pointer


def test_a_legacy_root_becomes_delta_tables_with_the_same_counts(spark, tmp_path: Path) -> None:
    legacy_root(tmp_path)
    counts = migrate_tables(spark, str(tmp_path))
    assert counts == {"results": 6, "rejects": 1}
    pointer = json.loads((tmp_path / "current.json").read_text())
    assert set(pointer["tables"]) == {"results", "rejects"} and "added" not in pointer
    assert "07_model_output/rejects.parquet" not in pointer["datasets"]
    results = read_published(str(tmp_path), "results")
    assert len(results) == 6 and results["pca_run_id"].isna().all()  # the next run projects them again
    assert read_published(str(tmp_path), "rejects")["reject_kind"].tolist() == ["not in a class folder"]
    # every ledger reads in the new layout, and the old run's Parquet files are no longer in use
    assert prune(DataRoot(str(tmp_path)), keep_runs=1) == ["runs/20261201T000000.000000Z-aaaa"]
    with pytest.raises(ValueError, match="is not in the Parquet-file layout: there is nothing to migrate"):
        migrate_tables(spark, str(tmp_path))
