"""TableDataset: a Parquet table changed by whole files, readable by Spark, pyarrow and pandas."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from fruits.datasets.table import TableChange, TableDataset
from fruits.tables import RESULTS, spark_schema
from tests.support.runs import run_scope


def results_table(root: Path, **options) -> TableDataset:
    return TableDataset(path=str(root), table="results", folder="07_model_output/results", **options)


def rows(spark, paths: list[str], label: str = "Kiwi"):
    data = [(path, label, "k1", [1.0, 2.0], [0.5]) for path in paths]
    return spark.createDataFrame(data, spark_schema(RESULTS))


def paths_of(dataset: TableDataset) -> list[str]:
    return sorted(row.path for row in dataset.load().select("path").collect())


def test_appends_accumulate_and_are_published_as_files(spark, tmp_path: Path) -> None:
    with run_scope(str(tmp_path)) as first:
        results_table(tmp_path).save(rows(spark, ["a", "b"]))
        first.publish()
    with run_scope(str(tmp_path)) as second:
        results_table(tmp_path).save(TableChange(add=rows(spark, ["c"])))
        assert paths_of(results_table(tmp_path)) == ["a", "b", "c"]
        assert paths_of(results_table(tmp_path, rows="added")) == ["c"]
        second.publish()
    files = [tmp_path / path for path in second.ledger.tables["results"]]
    assert all(path.suffix == ".parquet" and path.is_file() for path in files)
    assert sorted(pd.read_parquet(files)["path"]) == ["a", "b", "c"]  # plain pandas, through the file list


def published_runs(root: Path, *changes) -> list:
    """One published run per change (a table changes once per run); returns the runs."""
    runs = []
    for change in changes:
        with run_scope(str(root)) as run:
            results_table(root).save(change)
            run.publish()
            runs.append(run)
    return runs


def test_removal_rewrites_only_the_files_holding_removed_rows(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, rows(spark, ["a", "b"]).coalesce(1), rows(spark, ["c"]).coalesce(1))
    with run_scope(str(tmp_path)) as run:
        dataset = results_table(tmp_path)
        before = list(run.table_files("results"))
        dataset.save(TableChange(remove=pd.Series(["b", "not there"])))
        after = run.table_files("results")
        assert paths_of(dataset) == ["a", "c"]
        assert before[1] in after and before[0] not in after  # the file of "c" is untouched
        assert pq.read_table(tmp_path / after[-1]).schema.field("features").type == RESULTS.field("features").type


def test_a_change_saved_again_in_a_resumed_run_replaces_the_first_attempt(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, rows(spark, ["a"]))
    with run_scope(str(tmp_path)):
        results_table(tmp_path).save(rows(spark, ["b"]))
    with run_scope(str(tmp_path), resume=True) as resumed:
        results_table(tmp_path).save(rows(spark, ["b"]))
        assert paths_of(results_table(tmp_path)) == ["a", "b"]
        assert paths_of(results_table(tmp_path, rows="added")) == ["b"]
        assert resumed.resumed


def test_only_small_files_are_compacted_once_there_are_too_many(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, *(rows(spark, [name]).coalesce(1) for name in "abc"))
    dataset = results_table(tmp_path)
    with run_scope(str(tmp_path)) as run:
        dataset.save(TableChange(add=rows(spark, ["d"]).coalesce(1), compact_above_files=4))
        assert len(run.table_files("results")) == 4  # not more than 4 small files yet
    with run_scope(str(tmp_path)) as run:
        dataset.save(TableChange(add=rows(spark, ["d", "e"]).coalesce(1), compact_above_files=3))
        assert len(run.table_files("results")) == 1
        assert paths_of(dataset) == ["a", "b", "c", "d", "e"]
        assert paths_of(results_table(tmp_path, rows="added")) == ["d", "e"]


def test_replace_keeps_only_the_new_rows(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, rows(spark, ["a", "b"]))
    with run_scope(str(tmp_path)):
        results_table(tmp_path).save(TableChange(add=rows(spark, ["z"]), replace=True))
        assert paths_of(results_table(tmp_path)) == ["z"]


def test_columns_load_as_pandas_without_spark(spark, tmp_path: Path) -> None:
    store = TableDataset(path=str(tmp_path), table="feature_store", folder="04_feature/feature_store",
                         columns=["path", "featurized_at", "reject_kind"])
    assert list(store.load().columns) == ["path", "featurized_at", "reject_kind"]  # empty table, typed columns
    stamp = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    data = [("a", "Kiwi/a.jpg", "Kiwi", "k1", "f1", [1.0], None, None, stamp)]
    with run_scope(str(tmp_path)):
        store.save(spark.createDataFrame(data, spark_schema(store._schema)))
        frame = store.load()
    assert frame.to_dict("records") == [{"path": "a", "featurized_at": pd.Timestamp(stamp), "reject_kind": None}]


def test_an_empty_table_loads_with_its_schema(spark, tmp_path: Path) -> None:
    frame = results_table(tmp_path).load()
    assert frame.count() == 0
    assert frame.schema == spark_schema(RESULTS)


def test_unknown_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Unknown table 'nope'"):
        TableDataset(path=str(tmp_path), table="nope", folder="x")
