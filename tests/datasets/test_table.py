"""TableDataset: a Delta table read at the version the run sees, changed by Spark writes, readable by Spark, delta-rs
(pandas, Polars) and kedro-viz, published by version."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from delta.tables import DeltaTable
from deltalake import DeltaTable as DeltaReader
from deltalake import write_deltalake
from kedro.io.core import DatasetError
from pyspark.sql import functions as F

from fruits.datasets.table import (
    TableChange,
    TableChangesDataset,
    TableDataset,
    TableVersionsDataset,
    expired_files,
    row_digest,
    table_state,
    vacuum,
)
from fruits.tables import FEATURE_STORE, LISTING, RESULTS, SAMPLE, TABLES, spark_schema
from tests.support.runs import bound, run_scope


def results_table(root: Path, **options) -> TableDataset:
    return TableDataset(path=str(root), table="results", **options)


def rows(spark, paths: list[str], label: str = "Kiwi"):
    data = [(path, label, "k1", "fp", [0.5], "fit") for path in paths]
    return spark.createDataFrame(data, spark_schema(RESULTS))


def paths_of(dataset: TableDataset) -> list[str]:
    return sorted(row.path for row in dataset.load().select("path").collect())


def location(root: Path, table: str = "results") -> str:
    return str(root / TABLES[table].location)


def published_runs(root: Path, *changes) -> list:
    """One published run per change; returns the runs."""
    runs = []
    for change in changes:
        with run_scope(str(root)) as run:
            bound(results_table(root), run).save(change)
            run.publish()
            runs.append(run)
    return runs


def test_appends_accumulate_and_the_pointer_names_the_published_version(spark, tmp_path: Path) -> None:
    first, second = published_runs(tmp_path, rows(spark, ["a", "b"]), TableChange(add=rows(spark, ["c"])))
    pointer = json.loads((tmp_path / "current.json").read_text())
    assert pointer["tables"]["results"] == second.ledger.tables["results"] > first.ledger.tables["results"]
    assert paths_of(results_table(tmp_path)) == ["a", "b", "c"]  # outside a run: the published version


def test_every_engine_reads_the_table_with_its_own_reader(spark, tmp_path: Path) -> None:
    first, _ = published_runs(tmp_path, rows(spark, ["a", "b"]), rows(spark, ["c"]))
    newest = spark.read.format("delta").load(location(tmp_path))
    as_first_published = spark.read.format("delta").option("versionAsOf", first.ledger.tables["results"]) \
        .load(location(tmp_path))
    assert sorted(row.path for row in newest.collect()) == ["a", "b", "c"]
    assert sorted(row.path for row in as_first_published.collect()) == ["a", "b"]
    frame = DeltaReader(location(tmp_path)).to_pandas(columns=["path", "pca_features"])  # delta-rs, no Spark
    assert sorted(frame["path"]) == ["a", "b", "c"] and list(frame["pca_features"].iloc[0]) == [0.5]
    assert sorted(pl.read_delta(location(tmp_path))["path"].to_list()) == ["a", "b", "c"]


def test_removal_is_a_merge_that_rewrites_only_the_files_holding_removed_rows(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, rows(spark, ["a", "b"]).coalesce(1), rows(spark, ["c"]).coalesce(1))
    files_before = set(DeltaReader(location(tmp_path)).file_uris())
    with run_scope(str(tmp_path)) as run:
        dataset = bound(results_table(tmp_path), run)
        dataset.save(TableChange(remove=pd.DataFrame({"path": ["b", "not there"]})))
        assert paths_of(dataset) == ["a", "c"]
    history = DeltaTable.forPath(spark, location(tmp_path)).history(1).first()
    assert history["operation"] == "MERGE"
    files_after = set(DeltaReader(location(tmp_path)).file_uris())
    assert len(files_before & files_after) == 1  # the file of "c" is untouched, the one of "a" and "b" rewritten


def sample_rows(spark, *rows: tuple[str, str]):
    return spark.createDataFrame([(path, f"K/{path}", "K", key) for path, key in rows], spark_schema(SAMPLE))


def test_a_sync_writes_only_what_differs_and_the_published_version_stays_readable(spark, tmp_path: Path) -> None:
    table = TableDataset(path=str(tmp_path), table="sample")
    with run_scope(str(tmp_path)) as run:
        bound(table, run).save(TableChange(sync=sample_rows(spark, ("a", "1"), ("b", "1"), ("c", "1")).coalesce(1)))
        run.publish()
    published = location(tmp_path, "sample")
    files, version = set(DeltaReader(published).file_uris()), DeltaReader(published).version()
    with run_scope(str(tmp_path)) as run:
        bound(table, run).save(TableChange(sync=sample_rows(spark, ("a", "1"), ("b", "1"), ("c", "1"))))
        assert set(DeltaReader(published).file_uris()) == files  # nothing differs: no file written,
        assert DeltaReader(published).version() == version and "sample" not in run.ledger.tables  # no commit
        bound(table, run).save(TableChange(sync=sample_rows(spark, ("a", "1"), ("b", "2"), ("d", "1"))))
        now = {row.path: row.change_key for row in bound(table, run).load().collect()}
        before = bound(TableDataset(path=str(tmp_path), table="sample", published=True), run).load()
        assert now == {"a": "1", "b": "2", "d": "1"}  # b updated, c deleted, d inserted
        assert {row.path: row.change_key for row in before.collect()} == {"a": "1", "b": "1", "c": "1"}
        files = set(DeltaReader(location(tmp_path, "sample")).file_uris())
        bound(table, run).save(TableChange(sync=sample_rows(spark, ("a", "1"), ("b", "2"), ("d", "1"), ("e", "1"))))
        assert sorted(row.path for row in bound(table, run).load().collect()) == ["a", "b", "d", "e"]
        history = DeltaTable.forPath(spark, location(tmp_path, "sample")).history(2).collect()
        assert [entry.operation for entry in history] == ["WRITE", "MERGE"]  # only new rows: appended, no MERGE
        assert files < set(DeltaReader(location(tmp_path, "sample")).file_uris())  # every file kept
        with pytest.raises(DatasetError, match="only at the run's own version"):
            bound(TableDataset(path=str(tmp_path), table="sample", published=True), run).save(
                sample_rows(spark, ("e", "1")))


def changes_of(root: Path, run) -> dict[str, tuple[str | None, str | None]] | None:
    """The sample's changes since its published version, per path: its change key before and after."""
    changes = bound(TableChangesDataset(path=str(root), table="sample"), run).load()
    if changes is None:
        return None
    return {row.path: (row.before and row.before.change_key, row.after and row.after.change_key)
            for row in changes.rows.collect()}


def test_a_tables_changes_since_its_published_version_come_from_its_change_feed(spark, tmp_path: Path) -> None:
    table = TableDataset(path=str(tmp_path), table="sample")
    with run_scope(str(tmp_path)) as run:
        assert changes_of(tmp_path, run) is None  # nothing published: nothing to compare with
        bound(table, run).save(TableChange(sync=sample_rows(spark, ("a", "1"), ("b", "1"), ("c", "1"))))
        run.publish()
    with run_scope(str(tmp_path)) as killed:  # commits, never publishes: the next run restores the table first
        bound(table, killed).save(TableChange(sync=sample_rows(spark, ("a", "9"), ("z", "1"))))
    with run_scope(str(tmp_path)) as run:
        assert changes_of(tmp_path, run) == {}
        bound(table, run).save(TableChange(sync=sample_rows(spark, ("a", "1"), ("b", "2"), ("d", "1"))))
        changed = {"b": ("1", "2"), "c": ("1", None), "d": (None, "1")}
        assert changes_of(tmp_path, run) == changed  # the killed run's rows, restored away, are no change
        upsert = TableChange(upsert=sample_rows(spark, ("b", "2"), ("e", "1")))
        for _ in range(2):  # an upsert applied again (a resumed run) changes nothing more
            bound(table, run).save(upsert)
            assert changes_of(tmp_path, run) == {**changed, "e": (None, "1")}
        assert sorted(row.path for row in bound(table, run).load().collect()) == ["a", "b", "d", "e"]
    with pytest.raises(DatasetError, match="not recorded: name one of results, listing, sample"):
        TableChangesDataset(path=str(tmp_path), table="rejects")


def test_a_table_that_did_not_record_its_changes_records_them_from_its_next_change(spark, tmp_path: Path) -> None:
    table, uri = TableDataset(path=str(tmp_path), table="sample"), location(tmp_path, "sample")
    with run_scope(str(tmp_path)) as run:  # a table an earlier version of the project made, without a change feed
        sample_rows(spark, ("a", "1")).write.format("delta").save(uri)
        run.record_table("sample", 0)
        run.publish()
    with run_scope(str(tmp_path)) as run:
        sample_rows(spark, ("b", "1")).write.format("delta").mode("append").save(uri)
        run.record_table("sample", 1)
        assert changes_of(tmp_path, run) is None  # version 1 recorded no change: whole versions are compared
        run.publish()
    assert not table_state(uri).change_feed
    with run_scope(str(tmp_path)) as run:
        bound(table, run).save(TableChange(sync=sample_rows(spark, ("a", "2"), ("b", "1"))))
        assert table_state(uri).change_feed and changes_of(tmp_path, run) == {"a": ("1", "2")}


def listing_rows(spark, *rows: tuple[str, str]):
    return spark.createDataFrame([(path, f"K/{path}", "K", 1, key, "image", "") for path, key in rows],
                                 spark_schema(LISTING))


def test_a_listing_equal_to_the_table_is_not_joined_and_its_digest_follows_each_sync(
        spark, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    table = TableDataset(path=str(tmp_path), table="listing")  # the listing table keeps a digest
    syncs = [
        listing_rows(spark, ("a", "1"), ("b", "1"), ("c", "1")),  # a first write: the digest is read from the table
        listing_rows(spark, ("c", "1"), ("b", "1"), ("a", "1")),  # the same rows: no commit, no join
        listing_rows(spark, ("a", "1"), ("b", "2"), ("d", "1")),  # b updated, c deleted, d inserted
        listing_rows(spark, ("a", "1"), ("b", "2")),  # a deletion only
        listing_rows(spark, ("a", "1"), ("b", "2"), ("e", "1")),  # an insertion only: appended
    ]
    versions, unread = [], []
    for change in syncs:
        caplog.clear()
        with run_scope(str(tmp_path)) as run, caplog.at_level("INFO", logger="fruits.datasets.table"):
            bound(table, run).save(TableChange(sync=change))
            run.publish()
        unread.append("already holds these rows" in caplog.text)
        stored = spark.read.format("delta").option("versionAsOf", run.table_version("listing")) \
            .load(location(tmp_path, "listing"))
        digest = run.table_digest("listing")
        listed = stored.select(*TABLES["listing"].digest)  # the columns the others derive from
        assert digest == {"version": run.table_version("listing"), "derived_by": "", **row_digest(listed)}  # folded in
        assert sorted(row.path for row in stored.collect()) == sorted(row.path for row in change.collect())
        versions.append(run.table_version("listing"))
    assert versions[1] == versions[0] and len(set(versions)) == 4  # the same rows committed nothing
    assert unread == [False, True, False, False, False]
    assert json.loads((tmp_path / "current.json").read_text())["digests"]["listing"]["rows"] == 3


def test_a_digest_recorded_for_another_derivation_is_not_trusted(spark, tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """The digest covers the listed columns only: rows derived from them otherwise (another classification) are
    compared with the table, and written."""
    table = TableDataset(path=str(tmp_path), table="listing")

    def sync(derived_by: str, status: str) -> bool:
        caplog.clear()
        rows = listing_rows(spark, ("a", "1"), ("b", "1")).withColumn("status", F.lit(status))
        with run_scope(str(tmp_path)) as run, caplog.at_level("INFO", logger="fruits.datasets.table"):
            bound(table, run).save(TableChange(sync=rows, derived_by=derived_by))
            run.publish()
        assert {row.status for row in bound(table, run).load().collect()} == {status}
        return "already holds these rows" in caplog.text

    assert not sync("classified one way", "image")
    assert sync("classified one way", "image")  # the same listing, derived alike: not joined
    assert not sync("classified another way", "ignored")  # the same listed columns: joined, and written
    assert sync("classified another way", "ignored")


def test_a_sync_that_derives_compares_the_listed_columns_and_derives_only_the_rows_that_changed(
        spark, tmp_path: Path) -> None:
    """Each derivation here stamps its own mark under one fingerprint, to show which rows it derived: with a trusted
    digest, a row whose listed columns did not change keeps what it was derived as."""
    table = TableDataset(path=str(tmp_path), table="listing")

    def sync(mark: str, *rows: tuple[str, str], derived_by: str = "stamp") -> dict[str, str]:
        def stamp(listed):
            return listed.select("*", F.lit("K").alias("label"), F.lit("image").alias("status"),
                                 F.lit(mark).alias("detail"))
        listed = listing_rows(spark, *rows).select(*TABLES["listing"].digest)
        with run_scope(str(tmp_path)) as run:
            bound(table, run).save(TableChange(sync=listed, derive=stamp, derived_by=derived_by))
            run.publish()
        stored = bound(table, run).load()
        assert run.table_digest("listing") == {"version": run.table_version("listing"), "derived_by": derived_by,
                                               **row_digest(stored.select(*TABLES["listing"].digest))}
        return {row.path: row.detail for row in stored.collect()}

    assert sync("first", ("a", "1"), ("b", "1"), ("c", "1")) == {"a": "first", "b": "first", "c": "first"}
    # b changed, c went, d came: one MERGE, and the unchanged a is not derived again
    assert sync("second", ("a", "1"), ("b", "2"), ("d", "1")) == {"a": "first", "b": "second", "d": "second"}
    assert sync("third", ("a", "1"), ("b", "2"), ("d", "1"), ("e", "1")) == {
        "a": "first", "b": "second", "d": "second", "e": "third"}  # appended
    history = DeltaTable.forPath(spark, location(tmp_path, "listing")).history(2).collect()
    assert [entry.operation for entry in history] == ["WRITE", "MERGE"]
    assert set(sync("fourth", ("a", "1"), ("b", "2"), ("d", "1"), ("e", "1"), derived_by="other").values()) == {
        "fourth"}  # another derivation: whole rows compared, every row derived again


def test_a_digest_recorded_for_another_version_is_not_trusted(spark, tmp_path: Path) -> None:
    table = TableDataset(path=str(tmp_path), table="listing")
    with run_scope(str(tmp_path)) as run:
        bound(table, run).save(TableChange(sync=listing_rows(spark, ("a", "1"))))
        run.publish()
    with run_scope(str(tmp_path)) as run:  # a writer that keeps no digest: the recorded one describes version 0
        listing_rows(spark, ("b", "1")).write.format("delta").mode("append").save(location(tmp_path, "listing"))
        run.record_table("listing", table_state(location(tmp_path, "listing")).version)
        bound(table, run).save(TableChange(sync=listing_rows(spark, ("a", "1"))))  # so this sync joins
        assert [row.path for row in bound(table, run).load().collect()] == ["a"]


def test_nothing_published_yet_is_none_for_the_published_version(spark, tmp_path: Path) -> None:
    with run_scope(str(tmp_path)) as run:
        assert bound(TableDataset(path=str(tmp_path), table="sample", published=True), run).load() is None
        table = bound(TableDataset(path=str(tmp_path), table="sample"), run)
        table.save(TableChange(sync=sample_rows(spark, ("a", "1"))))  # a first sync creates the table
        assert [row.path for row in table.load().collect()] == ["a"]


def test_a_killed_runs_commits_are_never_what_the_next_run_or_a_reader_sees(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, rows(spark, ["a"]))
    with run_scope(str(tmp_path)) as killed:  # commits, never publishes
        bound(results_table(tmp_path), killed).save(rows(spark, ["b"]))
    assert paths_of(results_table(tmp_path)) == ["a"]
    assert sorted(DeltaReader(location(tmp_path)).to_pandas()["path"]) == ["a", "b"]  # the newest version
    with run_scope(str(tmp_path)) as run:
        dataset = bound(results_table(tmp_path), run)
        assert paths_of(dataset) == ["a"]
        dataset.save(rows(spark, ["c"]))
        assert paths_of(dataset) == ["a", "c"]
        run.publish()
    assert paths_of(results_table(tmp_path)) == ["a", "c"]


def test_a_resumed_run_continues_from_its_own_commits(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, rows(spark, ["a"]))
    with run_scope(str(tmp_path)) as interrupted:
        bound(results_table(tmp_path), interrupted).save(rows(spark, ["b"]))
    with run_scope(str(tmp_path), resume=True) as resumed:
        assert resumed.resumed and resumed.id == interrupted.id
        assert paths_of(bound(results_table(tmp_path), resumed)) == ["a", "b"]


def test_many_small_files_are_compacted_by_optimize(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, *(rows(spark, [name]).coalesce(1) for name in "ab"))
    with run_scope(str(tmp_path)) as run:
        bound(results_table(tmp_path, compact_above_files=2), run).save(rows(spark, ["c"]).coalesce(1))
    assert DeltaTable.forPath(spark, location(tmp_path)).history(1).first()["operation"] == "OPTIMIZE"
    assert len(DeltaReader(location(tmp_path)).file_uris()) == 1


def test_replace_keeps_only_the_new_rows(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, rows(spark, ["a", "b"]))
    with run_scope(str(tmp_path)) as run:
        dataset = bound(results_table(tmp_path), run)
        dataset.save(TableChange(add=rows(spark, ["z"]), replace=True))
        assert paths_of(dataset) == ["z"]


def test_a_replacement_replaces_the_columns_of_a_table_another_layout_wrote(spark, tmp_path: Path) -> None:
    rows(spark, ["a"]).withColumn("features", F.array(F.lit(1.0))).write.format("delta").save(location(tmp_path))
    (tmp_path / "current.json").write_text(json.dumps({"run_id": "r", "tables": {"results": 0}}))
    with run_scope(str(tmp_path)) as run:
        bound(results_table(tmp_path), run).save(TableChange(add=rows(spark, ["z"]), replace=True))
        run.publish()
    assert DeltaReader(location(tmp_path)).schema().to_arrow().names == RESULTS.names


def test_a_change_with_nothing_in_it_commits_nothing(spark, tmp_path: Path) -> None:
    (first,) = published_runs(tmp_path, rows(spark, ["a"]))
    with run_scope(str(tmp_path)) as run:
        bound(results_table(tmp_path), run).save(TableChange())
        assert run.table_version("results") == first.ledger.tables["results"]
    assert DeltaReader(location(tmp_path)).version() == first.ledger.tables["results"]


def test_store_rows_carry_their_run_and_load_as_pandas_columns(spark, tmp_path: Path) -> None:
    stamp = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    data = [("a", "Kiwi/a.jpg", "Kiwi", "k1", "f1", [1.0], None, None, stamp, None)]
    with run_scope(str(tmp_path)) as run:
        store = bound(TableDataset(path=str(tmp_path), table="feature_store",
                                   columns=["path", "featurized_at", "reject_kind"]), run)
        assert list(store.load().columns) == ["path", "featurized_at", "reject_kind"]  # empty table, typed columns
        rows_without_run = spark.createDataFrame(data, spark_schema(FEATURE_STORE)).drop("run_id")
        store.save(rows_without_run)
        this_run = bound(TableDataset(path=str(tmp_path), table="feature_store", rows="run", columns=["run_id"]), run)
        assert this_run.load()["run_id"].tolist() == [run.id]
        frame = store.load()
    assert frame.to_dict("records") == [{"path": "a", "featurized_at": pd.Timestamp(stamp), "reject_kind": None}]


def test_the_stores_vectors_are_written_without_a_dictionary_and_its_labels_with_one(spark, tmp_path: Path) -> None:
    """A dictionary of a model's nearly distinct floats is CPU spent for nothing (conf/base/spark.yml): not even
    tried, so here not made for floats that repeat, which would have one."""
    stamp = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
    data = [(f"p{n}", f"Kiwi/{n}.jpg", "Kiwi", "k1", "f1", [n % 3 + 0.25, 0.5], None, None, stamp, None)
            for n in range(100)]
    with run_scope(str(tmp_path)) as run:
        bound(TableDataset(path=str(tmp_path), table="feature_store"), run).save(
            spark.createDataFrame(data, spark_schema(FEATURE_STORE)).coalesce(1))
    (data_file,) = Path(location(tmp_path, "feature_store")).glob("*.parquet")
    chunks = pq.ParquetFile(data_file).metadata.row_group(0)
    dictionary = {chunks.column(n).path_in_schema: chunks.column(n).has_dictionary_page
                  for n in range(chunks.num_columns)}
    assert dictionary["features.list.element"] is False and dictionary["label"] is True


def test_an_empty_table_loads_with_its_schema_in_a_run_and_says_so_outside(spark, tmp_path: Path) -> None:
    with run_scope(str(tmp_path)) as run:
        frame = bound(results_table(tmp_path), run).load()
        assert frame.count() == 0 and frame.schema == spark_schema(RESULTS)
    with pytest.raises(DatasetError, match="No results table has been published under .*: run `kedro run` first"):
        results_table(tmp_path).load()


def test_the_preview_reads_the_published_version_without_spark_and_serialises(spark, tmp_path: Path) -> None:
    published_runs(tmp_path, rows(spark, ["a", "b"]))
    preview = results_table(tmp_path).preview(nrows=1)
    assert preview["columns"][:2] == ["path", "label"]
    assert preview["data"][0][4] == "[1 values]"
    json.dumps(preview)  # kedro viz build serialises every preview


def test_vacuum_deletes_only_files_no_kept_version_uses_and_commits_nothing(spark, tmp_path: Path) -> None:
    _, second = published_runs(tmp_path, rows(spark, ["a"]).coalesce(1),
                               TableChange(add=rows(spark, ["b"]).coalesce(1), replace=True))
    parquet = lambda: set((Path(location(tmp_path))).glob("*.parquet"))  # noqa: E731
    assert len(parquet()) == 2
    assert expired_files(location(tmp_path), 168) == [] and len(expired_files(location(tmp_path), 0)) == 1
    spark.sparkContext.setJobGroup("vacuum", "the VACUUM of a table with nothing to delete")
    vacuum(spark, str(tmp_path), retention_hours=168, tables=["results"])
    assert spark.sparkContext.statusTracker().getJobIdsForGroup("vacuum") == []  # delta-rs saw nothing to delete
    spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    assert len(parquet()) == 2  # the replaced file is younger than the retention: time travel still works
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        vacuum(spark, str(tmp_path), retention_hours=0, tables=[])  # a run that changed no table
        assert len(parquet()) == 2
        vacuum(spark, str(tmp_path), retention_hours=0, tables=["results"])
    finally:
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "true")
    assert len(parquet()) == 1 and paths_of(results_table(tmp_path)) == ["b"]
    assert table_state(location(tmp_path)).version == second.ledger.tables["results"]  # still the newest


def test_unknown_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="Unknown table 'nope'"):
        TableDataset(path=str(tmp_path), table="nope")


def test_a_broken_log_is_one_sentence_before_any_work(tmp_path: Path) -> None:
    table = tmp_path / TABLES["results"].location
    write_deltalake(str(table), pa.Table.from_pylist([], RESULTS))  # delta-rs: no Spark needed
    write_deltalake(str(table), pa.Table.from_pylist([], RESULTS), mode="append")
    (tmp_path / "current.json").write_text(json.dumps({"run_id": "r", "tables": {"results": 1}}))
    assert results_table(tmp_path).problem() is None
    (table / "_delta_log" / "00000000000000000001.json").unlink()  # a log file deleted by hand
    problem = results_table(tmp_path).problem()
    assert problem.startswith(f"The results table at {table} cannot be read at its published version 1 (")
    assert problem.endswith("restore the table's folder, _delta_log/ included, from a backup, or move the data root "
                            "aside to start afresh.")


def test_table_versions_are_the_runs_own_else_the_published_ones(spark, tmp_path: Path) -> None:
    versions = TableVersionsDataset(path=str(tmp_path), tables=["results", "rejects"])
    assert versions.load() == {"results": None, "rejects": None}  # nothing published yet
    first, = published_runs(tmp_path, rows(spark, ["a"]))
    assert versions.load() == {"results": first.ledger.tables["results"], "rejects": None}
    with run_scope(str(tmp_path)) as run:
        in_run = bound(TableVersionsDataset(path=str(tmp_path), tables=["results"]), run)
        started_from = bound(TableVersionsDataset(path=str(tmp_path), tables=["results"], published=True), run)
        assert in_run.load() == {"results": first.ledger.tables["results"]}  # as published, until this run writes
        bound(results_table(tmp_path), run).save(TableChange(add=rows(spark, ["b"])))
        assert in_run.load() == {"results": run.ledger.tables["results"]} != {"results": first.ledger.tables["results"]}
        assert started_from.load() == {"results": first.ledger.tables["results"]}
        with pytest.raises(DatasetError, match="read-only"):
            in_run.save({"results": 1})
    with pytest.raises(DatasetError, match="Unknown tables result: each one of"):
        TableVersionsDataset(path=str(tmp_path), tables=["result"])
