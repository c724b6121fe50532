"""`fruits-cloud results`: a Spark-style Parquet directory in S3, read with pandas/pyarrow + s3fs."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import s3fs

from tests.support.aws import BUCKET

RESULTS = f"{BUCKET}/fruits/data/07_model_output/results.parquet"
LABELS = ["Apple Granny Smith", "Banana", "Banana", "Kiwi", "Kiwi", "Kiwi"]


@pytest.fixture
def results(bucket, fresh_s3fs):
    """What the pipeline writes: part files plus _SUCCESS, with list<float> vectors of 1280 and 12 values."""
    rng = np.random.default_rng(0)
    vector = pa.list_(pa.float32())
    schema = pa.schema([("path", pa.string()), ("label", pa.string()), ("features", vector), ("pca_features", vector)])
    rows = [
        {
            "path": f"s3a://{BUCKET}/fruits/data/01_raw/fruits-360-mini/Test/{label}/{index}_100.jpg",
            "label": label,
            "features": rng.random(1280, dtype=np.float32).tolist(),
            "pca_features": rng.random(12, dtype=np.float32).tolist(),
        }
        for index, label in enumerate(LABELS)
    ]
    fs = s3fs.S3FileSystem()
    for part, chunk in enumerate((rows[:3], rows[3:])):
        with fs.open(f"{RESULTS}/part-0000{part}-c000.snappy.parquet", "wb") as file:
            pq.write_table(pa.Table.from_pylist(chunk, schema=schema), file)
    fs.touch(f"{RESULTS}/_SUCCESS")
    return rows


def table_rows(output):
    """Cells of every body row of the rich tables in ``output``."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")] for line in output.splitlines() if line.startswith("│")
    ]


def test_results_summary(cli, results):
    output = cli("results", "--rows", "2").output

    rows = table_rows(output)
    assert ["6", "path, label, features, pca_features", "1280", "12"] in rows
    assert {row[0]: row[1] for row in rows if row[0] in LABELS and len(row) == 2} == {
        "Apple Granny Smith": "1",
        "Banana": "2",
        "Kiwi": "3",
    }
    assert [row[0] for row in rows if len(row) == 3] == [results[0]["path"], results[1]["path"]]


def test_results_not_written_yet(error, bucket, fresh_s3fs):
    assert error("results") == (
        f"Error: No results at s3://{RESULTS}: the `run` step has not written them yet (see `fruits-cloud status`)."
    )
