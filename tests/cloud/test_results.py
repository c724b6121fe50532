"""`fruits-cloud results`: a Spark-style Parquet directory in S3, read with pandas/pyarrow + s3fs."""

from tests.support.aws import BUCKET

RESULTS = f"{BUCKET}/fruits/data/07_model_output/results.parquet"  # written by the `results` fixture (conftest)


def table_rows(output):
    """Cells of every body row of the rich tables in ``output``."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")] for line in output.splitlines() if line.startswith("│")
    ]


def test_results_summary(cli, results):
    output = cli("results", "--rows", "2").output

    rows = table_rows(output)
    assert ["6", "path, label, features, pca_features", "1280", "12"] in rows
    assert {row[0]: row[1] for row in rows if row[0] in {row["label"] for row in results} and len(row) == 2} == {
        "Apple Granny Smith": "1",
        "Banana": "2",
        "Kiwi": "3",
    }
    assert [row[0] for row in rows if len(row) == 3] == [results[0]["path"], results[1]["path"]]


def test_results_not_written_yet(error, bucket, fresh_s3fs):
    assert error("results") == (
        f"Error: No results at s3://{RESULTS}: the `run` step has not written them yet (see `fruits-cloud status`)."
    )
