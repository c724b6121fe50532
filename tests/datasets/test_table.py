"""TableDataset: a Parquet table changed by whole files, readable by Spark, pyarrow and pandas."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from fruits.datasets.table import TableChange, TableDataset
from fruits.publishing import run_scope
from fruits.tables import RESULTS, spark_schema


def results_table(root: Path, **options) -> TableDataset:
    return TableDataset(root=str(root), table="results", folder="07_model_output/results", **options)


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


def test_removal_rewrites_only_the_files_holding_removed_rows(spark, tmp_path: Path) -> None:
    with run_scope(str(tmp_path)) as run:
        dataset = results_table(tmp_path)
        dataset.save(rows(spark, ["a", "b"]).coalesce(1))
        dataset.save(rows(spark, ["c"]).coalesce(1))
        before = list(run.table_files("results"))
        dataset.save(TableChange(remove=pd.Series(["b", "not there"])))
        after = run.table_files("results")
        assert paths_of(dataset) == ["a", "c"]
        assert before[1] in after and before[0] not in after  # the file of "c" is untouched
        assert pq.read_table(tmp_path / after[-1]).schema.field("features").type == RESULTS.field("features").type


def test_replace_and_compaction(spark, tmp_path: Path) -> None:
    with run_scope(str(tmp_path)) as run:
        dataset = results_table(tmp_path)
        for name in "abcd":
            dataset.save(rows(spark, [name]).coalesce(1))
        assert len(run.table_files("results")) == 4
        dataset.save(TableChange(add=rows(spark, ["e"]).coalesce(1), compact_above_files=3))
        assert len(run.table_files("results")) == 1
        assert paths_of(dataset) == ["a", "b", "c", "d", "e"]
        assert paths_of(results_table(tmp_path, rows="added")) == ["a", "b", "c", "d", "e"]
        dataset.save(TableChange(add=rows(spark, ["z"]), replace=True))
        assert paths_of(dataset) == ["z"]


def test_columns_load_as_pandas_without_spark(spark, tmp_path: Path) -> None:
    store = TableDataset(root=str(tmp_path), table="feature_store", folder="04_feature/feature_store",
                         columns=["path", "featurized_at", "reason"])
    assert list(store.load().columns) == ["path", "featurized_at", "reason"]  # empty table, typed columns
    stamp = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    data = [("a", "Kiwi/a.jpg", "Kiwi", "k1", "f1", [1.0], None, stamp)]
    with run_scope(str(tmp_path)):
        store.save(spark.createDataFrame(data, spark_schema(store._schema)))
        frame = store.load()
    assert frame.to_dict("records") == [{"path": "a", "featurized_at": pd.Timestamp(stamp), "reason": None}]


def test_an_empty_table_loads_with_its_schema(spark, tmp_path: Path) -> None:
    frame = results_table(tmp_path).load()
    assert frame.count() == 0
    assert frame.schema == spark_schema(RESULTS)


def test_unknown_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Unknown table 'nope'"):
        TableDataset(root=str(tmp_path), table="nope", folder="x")
