"""The Delta tables in the Glue Data Catalog, so that Athena (and any Glue-backed engine) queries them by name.

Athena reads a Delta table registered in Glue from its transaction log: the table needs only its location and the
``table_type=DELTA`` parameter; no columns, SerDe or partitions are declared, so nothing here can drift from the
table's own schema (https://docs.aws.amazon.com/athena/latest/ug/delta-lake-tables-getting-started.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from fruits.cloud.aws import error_code
from fruits.cloud.config import Settings
from fruits.cloud.packaging import glue_database

# Table name -> its fixed folder under the data root (s3://BUCKET/PREFIX/data).
DELTA_TABLES = {
    "feature_store": "04_feature/feature_store",
    "results": "07_model_output/results",
    "rejects": "07_model_output/rejects",
}


@dataclass(frozen=True)
class Registration:
    table: str  # database.table
    location: str
    action: str  # created or updated
    has_log: bool  # whether a Delta log is already there (else: queryable after the first run)

    def line(self) -> str:
        later = "" if self.has_log else " (no Delta log there yet: queryable after the first `fruits-cloud run`)"
        return f"{self.table} {self.action} -> {self.location}{later}"


def table_input(name: str, location: str) -> dict[str, Any]:
    """A Delta table as Athena's ``CREATE EXTERNAL TABLE ... TBLPROPERTIES ('table_type'='DELTA')`` records it."""
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"table_type": "DELTA", "EXTERNAL": "TRUE"},
        "StorageDescriptor": {"Location": location},
    }


def ensure_database(glue: Any, database: str) -> None:
    """Create the database when the catalog has none of that name (an existing one is left as it is)."""
    try:
        glue.get_database(Name=database)
    except ClientError as exc:
        if error_code(exc) != "EntityNotFoundException":
            raise
        glue.create_database(DatabaseInput={"Name": database, "Description": "Fruits! Delta tables (fruits-cloud)"})


def upsert_table(glue: Any, database: str, table: dict[str, Any]) -> str:
    """Create the table, or update it in place (a changed bucket or prefix moves its location)."""
    try:
        glue.get_table(DatabaseName=database, Name=table["Name"])
    except ClientError as exc:
        if error_code(exc) != "EntityNotFoundException":
            raise
        glue.create_table(DatabaseName=database, TableInput=table)
        return "created"
    glue.update_table(DatabaseName=database, TableInput=table)
    return "updated"


def has_delta_log(s3: Any, settings: Settings, folder: str) -> bool:
    prefix = settings.key("data", folder, "_delta_log") + "/"
    return s3.list_objects_v2(Bucket=settings.bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) > 0


def register_tables(glue: Any, s3: Any, settings: Settings) -> list[Registration]:
    """Every Delta table of the data root in the Glue database of aws.yml (created if absent)."""
    database = glue_database(settings)
    ensure_database(glue, database)
    registered = []
    for name, folder in DELTA_TABLES.items():
        location = settings.uri("data", folder)
        action = upsert_table(glue, database, table_input(name, location))
        registered.append(Registration(f"{database}.{name}", location, action, has_delta_log(s3, settings, folder)))
    return registered
