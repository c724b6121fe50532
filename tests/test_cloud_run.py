"""End to end: `kedro run --env=cloud` against a local S3 (moto), with Spark itself reading and writing s3a://.

What runs here is what runs on EMR, minus the cluster: conf/base + conf/cloud unchanged, the bucket created and the
images uploaded by `fruits-cloud`, then `kedro run --env=cloud` as its own process on a `local-cluster` master (two
executor JVMs, so the executors' own S3 writes are exercised). Only environment variables point it at moto:

* Python (boto3, s3fs, pandas): ``AWS_ENDPOINT_URL`` and fake credentials;
* Spark: ``PYSPARK_SUBMIT_ARGS`` with the S3A connector jars (``scripts/fetch_s3a_jars.sh`` puts them in .jars/;
  EMR has its own connector) and the ``spark.hadoop.fs.s3a.*`` endpoint settings.

The outputs are then read back from the bucket the way a user would, with pandas/pyarrow + s3fs.

Run with ``pytest -m slow tests/test_cloud_run.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pandas as pd
import pytest
import s3fs

from tests.support.aws import (
    ACCESS_KEY,
    AMBIENT_VARIABLES,
    REGION,
    SECRET_KEY,
    isolated_environment,
    moto_server,
)
from tests.support.paths import AWS_YML, MINI_SET, PROJECT_ROOT, require_s3a_jars, require_weights

pytestmark = pytest.mark.slow

BUCKET = "fruits-e2e-cloud-run"
PREFIX = "fruits-e2e"
RAW_DEST = "01_raw/fruits-360-mini/Test"  # `fruits-cloud upload --dest`: a folder under s3://BUCKET/PREFIX/data/
DATA = f"{BUCKET}/{PREFIX}/data"  # catalog root: s3a://$FRUITS_BUCKET/$FRUITS_PREFIX/data (conf/cloud/globals.yml)

# Two executor JVMs like a small cluster. EMR's executor sizing lives in the cluster's spark-defaults (aws.yml), not in
# conf/cloud/spark.yml, so nothing in the cloud environment stops this local master from fitting.
MASTER = "local-cluster[2,1,1024]"
RUN_TIMEOUT_SECONDS = 1500

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXPECTED_IMAGES = 80
BROKEN_KEY = f"{PREFIX}/data/{RAW_DEST}/Kiwi/broken.jpg"


def _console_script(name: str, fallback: list[str]) -> list[str]:
    """The venv's console script next to this interpreter, else the equivalent ``python -m/-c`` call."""
    script = Path(sys.executable).parent / name
    return [str(script)] if script.is_file() else [sys.executable, *fallback]


def _tail(text: str, lines: int = 80) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A real S3 endpoint on 127.0.0.1 for the whole module."""
    with moto_server() as url:
        yield url


def spark_submit_args(endpoint: str) -> list[str]:
    """Spark's own S3 client (S3A) pointed at moto, on a local cluster of two executor JVMs."""
    return [
        "--master", MASTER,
        "--jars", ",".join(str(jar) for jar in require_s3a_jars()),
        "--conf", f"spark.hadoop.fs.s3a.endpoint={endpoint}",
        "--conf", "spark.hadoop.fs.s3a.path.style.access=true",
        "--conf", "spark.hadoop.fs.s3a.connection.ssl.enabled=false",
        "--conf", f"spark.hadoop.fs.s3a.access.key={ACCESS_KEY}",
        "--conf", f"spark.hadoop.fs.s3a.secret.key={SECRET_KEY}",
        "--conf", "spark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "--conf", "spark.hadoop.fs.s3a.impl=org.apache.hadoop.fs.s3a.S3AFileSystem",
        "pyspark-shell",
    ]


@pytest.fixture(scope="module")
def aws_env(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of every process here (this one, `fruits-cloud`, `kedro run`): only moto is reachable."""
    env = {
        **isolated_environment(moto_endpoint, tmp_path_factory.mktemp("aws-home")),
        "FRUITS_BUCKET": BUCKET,
        "FRUITS_PREFIX": PREFIX,
        "FRUITS_REGION": REGION,
        "FRUITS_CLOUD_CONFIG": str(AWS_YML),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_SUBMIT_ARGS": shlex.join(spark_submit_args(moto_endpoint)),
        "COLUMNS": "160",  # Kedro's rich log lines unwrapped: a readable tail when the run fails
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in AMBIENT_VARIABLES:
            patch.delenv(name, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.setattr(boto3, "DEFAULT_SESSION", None)
        s3fs.S3FileSystem.clear_instance_cache()
        yield dict(os.environ)
    s3fs.S3FileSystem.clear_instance_cache()


def _run(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=timeout, check=False,
    )


def _fruits_cloud(env: dict[str, str], *args: str) -> str:
    command = _console_script("fruits-cloud", ["-c", "from fruits.cloud.cli import cli; cli()"])
    result = _run([*command, *args], env, timeout=300)
    assert result.returncode == 0, f"fruits-cloud {' '.join(args)} exited {result.returncode}:\n{_tail(result.stdout)}"
    return result.stdout


@dataclass(frozen=True)
class CloudRun:
    upload_output: str
    output: str
    seconds: float
    storage_options: dict
    fs: s3fs.S3FileSystem

    def url(self, relative: str) -> str:
        return f"s3://{DATA}/{relative}"

    def read_json(self, relative: str) -> dict:
        with self.fs.open(f"{DATA}/{relative}") as file:
            return json.load(file)

    def read_bytes(self, relative: str) -> bytes:
        return self.fs.cat_file(f"{DATA}/{relative}")

    def keys(self, relative: str) -> list[str]:
        """Object keys under a data folder, relative to it."""
        root = f"{DATA}/{relative}"
        return sorted(path.removeprefix(root + "/") for path in self.fs.find(root))


@pytest.fixture(scope="module")
def cloud_run(
    aws_env: dict[str, str], moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> CloudRun:
    """Bucket + upload with the project's CLI, one corrupt image, then the whole pipeline in the cloud env."""
    _fruits_cloud(aws_env, "bucket")
    upload_output = _fruits_cloud(aws_env, "upload", str(MINI_SET), "--dest", RAW_DEST)
    jpeg = sorted((MINI_SET / "Kiwi").glob("*.jpg"))[0].read_bytes()
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=BROKEN_KEY, Body=jpeg[: len(jpeg) // 2])

    command = [
        *_console_script("kedro", ["-m", "kedro"]),
        "run", "--env=cloud", "--params", f"weights={require_weights()}",
    ]
    started = time.perf_counter()
    try:
        result = _run(command, aws_env, timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as timeout:
        output = timeout.stdout.decode(errors="replace") if isinstance(timeout.stdout, bytes) else timeout.stdout
        pytest.fail(f"kedro run --env=cloud did not finish in {RUN_TIMEOUT_SECONDS} s:\n{_tail(output or '')}")
    seconds = time.perf_counter() - started
    log = tmp_path_factory.mktemp("cloud_run") / "kedro-run.log"
    log.write_text(result.stdout)
    print(f"kedro run --env=cloud: exit {result.returncode} in {seconds:.0f} s, full output in {log}")
    assert result.returncode == 0, (
        f"kedro run --env=cloud exited {result.returncode} after {seconds:.0f} s (full output: {log}); "
        f"last 80 lines:\n{_tail(result.stdout)}"
    )
    storage_options = {"client_kwargs": {"endpoint_url": moto_endpoint, "region_name": REGION}}
    s3fs.S3FileSystem.clear_instance_cache()
    return CloudRun(upload_output, result.stdout, seconds, storage_options, s3fs.S3FileSystem(**storage_options))


@pytest.fixture(scope="module")
def results(cloud_run: CloudRun) -> pd.DataFrame:
    return pd.read_parquet(cloud_run.url("07_model_output/results.parquet"), storage_options=cloud_run.storage_options)


@pytest.fixture(scope="module")
def summary(cloud_run: CloudRun) -> dict:
    return cloud_run.read_json("08_reporting/run_summary.json")


def test_spark_ran_on_a_local_cluster(cloud_run: CloudRun) -> None:
    """Separate executor JVMs, as on EMR: the executors' own S3 reads and writes are part of the run."""
    assert f"master {MASTER}" in cloud_run.output
    assert "Pipeline execution completed successfully" in cloud_run.output


def test_inputs_were_uploaded_by_the_cli(cloud_run: CloudRun) -> None:
    assert f"{EXPECTED_IMAGES} uploaded, 0 unchanged" in cloud_run.upload_output
    raw = cloud_run.keys(RAW_DEST)
    assert len(raw) == EXPECTED_IMAGES + 1
    assert "Apple Granny Smith/" in {key.rsplit("/", 1)[0] + "/" for key in raw}


def test_the_sample_manifest_is_written_to_s3_and_no_image_is_copied(cloud_run: CloudRun) -> None:
    sample = pd.read_parquet(
        cloud_run.url("02_intermediate/image_sample.parquet"), storage_options=cloud_run.storage_options
    )
    assert list(sample.columns) == ["path", "label"]
    assert len(sample) == EXPECTED_IMAGES + 1  # strategy "all": every raw image, the broken one too
    assert sample["path"].str.startswith(f"s3a://{DATA}/{RAW_DEST}/").all()
    assert "Apple Granny Smith" in set(sample["label"])  # class folder with spaces kept
    assert not [key for key in cloud_run.keys("02_intermediate") if key.lower().endswith(".jpg")]


def test_results_hold_every_image_with_features_and_pca_features(results: pd.DataFrame, summary: dict) -> None:
    assert list(results.columns) == ["path", "label", "features", "pca_features"]
    assert len(results) == EXPECTED_IMAGES
    assert results["features"].map(len).eq(1280).all()
    assert results["features"].map(lambda vector: pd.notna(vector).all()).all()
    assert results["pca_features"].map(len).eq(summary["pca_k"]).all()
    assert "Apple Granny Smith" in set(results["label"])
    assert results["label"].nunique() == 10
    assert not results["path"].str.contains("broken.jpg").any()
    assert results["path"].str.startswith(f"s3a://{DATA}/{RAW_DEST}/").all()


def test_the_corrupt_image_is_a_reject_with_its_reason(cloud_run: CloudRun) -> None:
    rejects = pd.read_parquet(
        cloud_run.url("07_model_output/rejects.parquet"), storage_options=cloud_run.storage_options
    )
    assert list(rejects.columns) == ["path", "label", "reason"]
    assert len(rejects) == 1
    reject = rejects.iloc[0]
    assert reject["path"].endswith("/Kiwi/broken.jpg") and reject["label"] == "Kiwi"
    assert reject["reason"]  # e.g. "corrupt image: image file is truncated ..."
    report = pd.read_csv(cloud_run.url("08_reporting/rejects.csv"), storage_options=cloud_run.storage_options)
    assert report["path"].tolist() == [reject["path"]]


def test_run_summary_counts_every_input_once(cloud_run: CloudRun, summary: dict) -> None:
    assert summary["input_images"] == EXPECTED_IMAGES + 1
    assert summary["featurized_images"] == EXPECTED_IMAGES
    assert summary["rejected_images"] == 1
    assert summary["input_images"] == summary["featurized_images"] + summary["rejected_images"]
    assert summary["images_inferred"] == EXPECTED_IMAGES  # the network ran once per image, not again for PCA
    assert summary["classes"] == 10
    assert 1 <= summary["pca_k"] <= EXPECTED_IMAGES
    per_class = pd.read_csv(cloud_run.url("08_reporting/images_per_class.csv"),
                            storage_options=cloud_run.storage_options).set_index("label")
    assert per_class.loc["Kiwi"].to_dict() == {"featurized": 8, "rejected": 1, "total": 9}
    assert per_class["total"].sum() == EXPECTED_IMAGES + 1


def test_features_and_pca_model_are_spark_outputs_in_s3(cloud_run: CloudRun) -> None:
    features = cloud_run.keys("04_feature/image_features.parquet")
    assert "_SUCCESS" in features and any(key.endswith(".parquet") for key in features)
    model = cloud_run.keys("06_models/pca_model")
    assert "metadata/part-00000" in model, model
    assert any(key.startswith("stages/") for key in model), model
    metadata = json.loads(cloud_run.read_bytes("06_models/pca_model/metadata/part-00000"))
    assert metadata["class"] == "org.apache.spark.ml.PipelineModel"


def test_reports_are_in_s3(cloud_run: CloudRun, summary: dict) -> None:
    reporting = set(cloud_run.keys("08_reporting"))
    assert {
        "report.md", "explained_variance.png", "pca_map.png", "images_per_class.csv", "rejects.csv",
        "run_summary.json", "classifier_metrics.json", "explained_variance.csv",
    } <= reporting
    for plot in ("explained_variance.png", "pca_map.png"):
        assert cloud_run.read_bytes(f"08_reporting/{plot}").startswith(PNG_MAGIC), plot
    metrics = cloud_run.read_json("08_reporting/classifier_metrics.json")
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert metrics == summary["classifier"]
    report = cloud_run.read_bytes("08_reporting/report.md").decode()
    assert "Held-out accuracy" in report and f"{metrics['accuracy']:.1%}" in report
    variance = pd.read_csv(cloud_run.url("08_reporting/explained_variance.csv"),
                           storage_options=cloud_run.storage_options)
    assert variance["cumulative"].iloc[summary["pca_k"] - 1] == pytest.approx(summary["pca_explained_variance"],
                                                                              abs=1e-4)
