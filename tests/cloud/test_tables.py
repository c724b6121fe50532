"""`fruits-cloud tables`: the three Delta tables registered in moto's Glue Data Catalog as Athena reads them."""

import boto3

from tests.cloud.test_policies import as_list, statements
from tests.support.aws import BUCKET, REGION

LOCATIONS = {
    "feature_store": f"s3://{BUCKET}/fruits/data/04_feature/feature_store",
    "results": f"s3://{BUCKET}/fruits/data/07_model_output/results",
    "rejects": f"s3://{BUCKET}/fruits/data/07_model_output/rejects",
}


def glue_tables(database="fruits"):
    glue = boto3.client("glue", region_name=REGION)
    return {table["Name"]: table for table in glue.get_tables(DatabaseName=database)["TableList"]}


def test_tables_are_registered_as_delta_tables_at_their_fixed_locations(cli, bucket, s3):
    log = "fruits/data/07_model_output/results/_delta_log/00000000000000000000.json"
    s3.put_object(Bucket=BUCKET, Key=log, Body=b"{}")

    output = cli("tables").output

    tables = glue_tables()
    assert set(tables) == set(LOCATIONS)
    for name, table in tables.items():
        assert table["TableType"] == "EXTERNAL_TABLE"
        assert table["Parameters"] == {"table_type": "DELTA", "EXTERNAL": "TRUE"}
        assert table["StorageDescriptor"]["Location"] == LOCATIONS[name]
        assert not table["StorageDescriptor"].get("Columns")  # the schema is the Delta log's
    assert f"fruits.results created -> {LOCATIONS['results']}\n" in output
    assert f"fruits.rejects created -> {LOCATIONS['rejects']} (no Delta log there yet" in output


def test_a_second_call_updates_in_place_and_another_database_is_created(cli, bucket, spec):
    cli("tables")
    glue = boto3.client("glue", region_name=REGION)
    moved = {**glue.get_table(DatabaseName="fruits", Name="results")["Table"]}
    glue.update_table(
        DatabaseName="fruits",
        TableInput={"Name": "results", "TableType": "EXTERNAL_TABLE", "StorageDescriptor": {"Location": "s3://x/y"}},
    )

    output = cli("tables").output

    assert "fruits.results updated" in output
    assert glue_tables()["results"]["StorageDescriptor"]["Location"] == moved["StorageDescriptor"]["Location"]
    spec(lambda content: content["glue"].update(database="fruits_staging"))
    cli("tables")
    assert set(glue_tables("fruits_staging")) == set(LOCATIONS)


def test_operator_policy_allows_exactly_the_glue_calls_of_tables(cli, bucket, recorded_requests):
    cli("tables")
    cli("tables")  # the update path too

    called = {target.replace("AWSGlue.", "glue:") for target, _ in recorded_requests("AWSGlue.")}
    allowed = {
        action
        for statement in statements(cli, "operator")
        for action in as_list(statement["Action"])
        if action.startswith("glue:")
    }
    assert called == allowed


def test_tables_without_bucket_says_what_to_do(error):
    assert error("tables") == f"Error: Bucket {BUCKET} does not exist: run `fruits-cloud bucket` first."
