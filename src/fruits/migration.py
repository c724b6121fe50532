"""Converts a data root written before the tables were Delta tables (Parquet files listed in ``current.json``) into
the Delta layout, once: ``fruits migrate-tables``. Row counts are checked before and after; the pointer is
rewritten last, so an interrupted migration leaves the old layout readable and can simply be run again."""

from __future__ import annotations

import json
import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from fruits.datasets.table import table_state
from fruits.publishing import LEDGER, POINTER, RUNS, DataRoot, is_legacy
from fruits.tables import TABLES, spark_schema

logger = logging.getLogger(__name__)

LEGACY_REJECTS = "07_model_output/rejects.parquet"  # the rejects were a run output, not a table


def _conformed(rows: DataFrame, table: str) -> DataFrame:
    """The legacy rows with the table's columns (columns the old layout lacked are null)."""
    schema = spark_schema(TABLES[table].schema)
    return rows.select(*(F.col(field.name).cast(field.dataType) if field.name in rows.columns
                         else F.lit(None).cast(field.dataType).alias(field.name) for field in schema.fields))


def migrate_tables(spark: SparkSession, root_uri: str) -> dict[str, int]:
    """Write each legacy table (and the rejects) as a Delta table at its fixed location, then the pointer and the
    ledgers without file lists; returns the rows of each table. Fails, publishing nothing, if a count differs."""
    root = DataRoot(root_uri)
    text = root.read_text(POINTER)
    content = json.loads(text) if text else {}
    if not is_legacy(content):
        raise ValueError(f"{root.uri} is not in the Parquet-file layout: there is nothing to migrate.")
    sources = {name: [root.join(path) for path in files] for name, files in content["tables"].items()}
    if LEGACY_REJECTS in content.get("datasets", {}):
        sources["rejects"] = [root.join(content["datasets"].pop(LEGACY_REJECTS))]
    counts, versions = {}, {}
    for name, files in sources.items():
        rows = spark.read.parquet(*files) if files else spark.createDataFrame([], spark_schema(TABLES[name].schema))
        counts[name] = rows.count()
        target = root.join(TABLES[name].location)
        _conformed(rows, name).write.format("delta").mode("overwrite").save(target)
        written = spark.read.format("delta").load(target).count()
        if written != counts[name]:
            raise RuntimeError(f"{name}: {counts[name]} rows before the migration, {written} after: nothing changed "
                               f"in {root.join(POINTER)}.")
        versions[name] = table_state(target).version
        logger.info("Migrated %s: %d rows, Delta version %d at %s", name, counts[name], versions[name], target)
    for run_id in root.run_ids():
        ledger_text = root.read_text(f"{RUNS}/{run_id}/{LEDGER}")
        ledger = json.loads(ledger_text) if ledger_text else {}
        if is_legacy(ledger):
            ledger["tables"] = versions if ledger.get("run_id") == content.get("run_id") else {}
            ledger.pop("added", None)
            ledger.get("datasets", {}).pop(LEGACY_REJECTS, None)
            root.write_text_atomically(f"{RUNS}/{run_id}/{LEDGER}", json.dumps(ledger, indent=2, sort_keys=True))
    content.pop("added", None)
    content["tables"] = versions
    root.write_text_atomically(POINTER, json.dumps(content, indent=2, sort_keys=True) + "\n")
    return counts
