"""`fruits-cloud results`: the published results in S3, read through data/current.json with pyarrow + s3fs."""

from tests.support.aws import BUCKET

POINTER = f"s3://{BUCKET}/fruits/data/current.json"


def table_rows(output):
    """Cells of every body row of the rich tables in ``output``."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")] for line in output.splitlines() if line.startswith("│")
    ]


def test_results_summary(cli, results):
    output = cli("results", "--rows", "2").output

    assert "Published results (run 20261129T120000.000000Z-test)" in output
    rows = table_rows(output)
    assert ["6", "path, label, change_key, fingerprint, pca_features, pca_run_id", "12"] in rows
    assert {row[0]: row[1] for row in rows if row[0] in {row["label"] for row in results} and len(row) == 2} == {
        "Apple Granny Smith": "1",
        "Banana": "2",
        "Kiwi": "3",
    }
    first_paths = [row[0] for row in rows if len(row) == 3 and row[0].startswith("s3a:")]
    assert first_paths == sorted(row["path"] for row in results)[:2]


def test_results_not_written_yet(error, bucket, fresh_s3fs):
    assert error("results") == (
        f"Error: No published run at {POINTER}: the `run` step has not finished yet (see `fruits-cloud status`)."
    )
