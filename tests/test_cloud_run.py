"""End to end: `kedro run --env=cloud` against a local S3 (moto), with Spark itself reading and writing s3a://.

What runs here is what runs on EMR, minus the cluster: conf/base + conf/cloud unchanged, the bucket created and the
images uploaded by `fruits-cloud`, then `kedro run --env=cloud` as its own process. Only environment variables point
it at moto:

* Python (boto3, s3fs, pandas, pyarrow, and the executors' image reads): ``AWS_ENDPOINT_URL`` and fake credentials;
* Spark: ``PYSPARK_SUBMIT_ARGS`` with the S3A connector jars (``scripts/fetch_s3a_jars.sh`` puts them in .jars/;
  EMR has its own connector) and the ``spark.hadoop.fs.s3a.*`` endpoint settings.

The scenario: a first run (two executor JVMs, like a small cluster), then 5 images added and 3 deleted, then no
change, then a run killed during featurization. Outputs are read back through ``data/current.json`` the way a user
would, with pandas/pyarrow + s3fs and with ``fruits-cloud results``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pandas as pd
import pytest
import s3fs

from devkit.paths import AWS_YML, MINI_SET, PROJECT_ROOT
from fruits.datasets.table import read_published as read_table
from tests.support.aws import (
    ACCESS_KEY,
    AMBIENT_VARIABLES,
    REGION,
    SECRET_KEY,
    isolated_environment,
    moto_server,
)
from tests.support.paths import require_weights
from tests.support.spark import DELTA_JARS, S3A_JARS, project_jars

pytestmark = pytest.mark.slow

BUCKET = "fruits-e2e-cloud-run"
PREFIX = "fruits-e2e"
RAW_DEST = "01_raw/fruits-360-mini/Test"  # `fruits-cloud upload --images … --dest`: a folder under s3://BUCKET/PREFIX/data/
DATA = f"{BUCKET}/{PREFIX}/data"  # catalog root: s3a://$FRUITS_BUCKET/$FRUITS_PREFIX/data (conf/cloud/globals.yml)
RAW_URI = f"s3a://{DATA}/{RAW_DEST}/"
CLUSTER = "local-cluster[2,1,1024]"  # two executor JVMs: the executors' own S3 reads and writes are exercised
RUN_TIMEOUT_SECONDS = 1500
BROKEN = "Kiwi/broken.jpg"
ADDED = [f"Lemon/added {index}.jpg" for index in range(5)]
DELETED = ["Orange/3_100.jpg", "Kiwi/r_40_100.jpg", "Lemon/added 4.jpg"]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A real S3 endpoint on 127.0.0.1 for the whole module."""
    with moto_server() as url:
        yield url


def spark_submit_args(endpoint: str, master: str) -> str:
    """Spark's own S3 client (S3A) pointed at moto."""
    return shlex.join([
        "--master", master,
        "--jars", ",".join(project_jars(*S3A_JARS, *DELTA_JARS)),
        "--conf", f"spark.hadoop.fs.s3a.endpoint={endpoint}",
        "--conf", "spark.hadoop.fs.s3a.path.style.access=true",
        "--conf", "spark.hadoop.fs.s3a.connection.ssl.enabled=false",
        "--conf", f"spark.hadoop.fs.s3a.access.key={ACCESS_KEY}",
        "--conf", f"spark.hadoop.fs.s3a.secret.key={SECRET_KEY}",
        "--conf", "spark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "--conf", "spark.hadoop.fs.s3a.impl=org.apache.hadoop.fs.s3a.S3AFileSystem",
        "pyspark-shell",
    ])


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
        "PYSPARK_SUBMIT_ARGS": spark_submit_args(moto_endpoint, "local[2]"),
        "COLUMNS": "160",
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


def run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=RUN_TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, f"{shlex.join(command)} exited {result.returncode}:\n{result.stdout[-6000:]}"
    return result.stdout


def fruits_cloud(env: dict[str, str], *args: str) -> str:
    return run([sys.executable, "-c", "from fruits.cloud.cli import cli; cli()", *args], env)


def kedro_cloud(env: dict[str, str], *params: str) -> list[str]:
    return [sys.executable, "-m", "kedro", "run", "--env=cloud", "--params",
            ",".join([f"weights={require_weights()}", *params])]


@dataclass
class Published:
    """One published state, read the way a user reads it: the pointer, then the table versions it names."""

    pointer: dict
    summary: dict
    results: pd.DataFrame
    rejects: pd.DataFrame


def read_published(fs: s3fs.S3FileSystem) -> Published:
    """The pointer, then the tables at the versions it names, read with delta-rs (no Spark), as the README shows."""
    fs.invalidate_cache()
    pointer = json.loads(fs.cat_file(f"{DATA}/current.json"))
    summary = json.loads(fs.cat_file(f"{DATA}/{pointer['datasets']['08_reporting/run_summary.json']}"))
    root = f"s3a://{DATA}"
    return Published(pointer, summary, read_table(root, "results"), read_table(root, "rejects"))


@dataclass
class Scenario:
    outputs: list[str]
    states: list[Published]
    upload_outputs: list[str]
    killed: str
    after_kill: Published
    results_command: str
    fs: s3fs.S3FileSystem


def kill_during_featurization(command: list[str], env: dict[str, str]) -> str:
    """Start a run and SIGKILL it (with its JVM and Python workers) once its Spark job is under way."""
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "Featurizing" in line:
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)[-3000:]
    return "".join(seen)


@pytest.fixture(scope="module")
def scenario(aws_env: dict[str, str], moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": moto_endpoint, "region_name": REGION})
    s3 = boto3.client("s3", region_name=REGION)
    fruits_cloud(aws_env, "bucket")
    # moto applies the bucket's TLS-only policy to every request (it ignores the aws:SecureTransport condition),
    # and it only speaks plain HTTP here: the policy itself is tested in tests/cloud.
    s3.delete_bucket_policy(Bucket=BUCKET)
    images = tmp_path_factory.mktemp("images") / "Test"
    shutil.copytree(MINI_SET, images)
    (images / BROKEN).write_bytes((images / "Kiwi" / "3_100.jpg").read_bytes()[:700])
    uploads = [fruits_cloud(aws_env, "upload", "--images", str(images), "--dest", RAW_DEST)]
    first_env = {**aws_env, "PYSPARK_SUBMIT_ARGS": spark_submit_args(moto_endpoint, CLUSTER)}
    outputs = [run(kedro_cloud(first_env), first_env)]
    states = [read_published(fs)]
    for index, name in enumerate(ADDED):
        shutil.copy(sorted(MINI_SET.glob("*/*.jpg"))[index * 13], images / name)
    uploads.append(fruits_cloud(aws_env, "upload", "--images", str(images), "--dest", RAW_DEST))
    for name in DELETED:
        s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/data/{RAW_DEST}/{name}")
    outputs.append(run(kedro_cloud(aws_env), aws_env))
    states.append(read_published(fs))
    outputs.append(run(kedro_cloud(aws_env), aws_env))
    states.append(read_published(fs))
    killed_env = {**aws_env, "SPARK_LOCAL_DIRS": str(tmp_path_factory.mktemp("spark-local"))}  # left behind
    killed = kill_during_featurization(kedro_cloud(aws_env, "featurization.full_refresh=true"), killed_env)
    return Scenario(outputs, states, uploads, killed, read_published(fs), fruits_cloud(aws_env, "results"), fs)


def names(paths: pd.Series) -> set[str]:
    return {path.removeprefix(RAW_URI) for path in paths}


def test_the_first_run_reads_and_writes_s3a_on_executor_jvms(scenario: Scenario) -> None:
    assert f"master {CLUSTER}" in scenario.outputs[0]
    assert "81 uploaded, 0 unchanged" in scenario.upload_outputs[0]
    first = scenario.states[0]
    assert first.summary["run"]["data_root"] == f"s3a://{DATA}"
    assert first.summary["counts"]["listed"] == 81 and first.summary["featurization"]["images_inferred"] == 80
    assert list(first.results.columns) == ["path", "label", "change_key", "fingerprint", "pca_features", "pca_run_id"]
    assert len(first.results) == 80 and first.results["pca_features"].map(len).eq(first.summary["pca"]["k"]).all()
    assert first.results["path"].str.startswith(RAW_URI).all()
    assert first.results["change_key"].str.startswith("etag:").all()
    assert first.rejects[["label", "reject_kind"]].values.tolist() == [["Kiwi", "corrupt image"]]
    assert names(first.rejects["path"]) == {BROKEN}


def test_outputs_are_written_under_the_run_folder_in_s3(scenario: Scenario) -> None:
    first = scenario.states[0]
    run_folder = f"runs/{first.pointer['run_id']}/"
    assert all(location.startswith(run_folder) for location in first.pointer["datasets"].values())
    model = scenario.fs.find(f"{DATA}/{first.pointer['datasets']['06_models/pca_model']}")
    assert any(key.endswith("metadata/part-00000") for key in model)
    report = scenario.fs.cat_file(f"{DATA}/{first.pointer['datasets']['08_reporting/report.md']}").decode()
    assert "Held-out accuracy" in report
    assert scenario.fs.find(f"{DATA}/model_cache")  # the converted model is cached in the bucket for the next runs


def test_added_and_deleted_images_cost_what_changed(scenario: Scenario) -> None:
    first, second = scenario.states[0], scenario.states[1]
    assert "5 uploaded, 81 unchanged" in scenario.upload_outputs[1]
    assert second.summary["featurization"]["images_inferred"] == 4  # 5 added, one of them deleted again
    assert second.summary["counts"]["gone"] == 2 and second.summary["counts"]["new"] == 4
    assert names(second.results["path"]) == names(first.results["path"]) - set(DELETED) | set(ADDED[:4])


def test_an_unchanged_rerun_infers_nothing(scenario: Scenario) -> None:
    third = scenario.states[2]
    assert third.summary["featurization"]["images_inferred"] == 0
    assert names(third.results["path"]) == names(scenario.states[1].results["path"])


def test_a_killed_run_publishes_nothing(scenario: Scenario) -> None:
    assert "Featurizing" in scenario.killed
    assert scenario.after_kill.pointer == scenario.states[2].pointer
    assert len(scenario.after_kill.results) == len(scenario.states[2].results) == 82
    assert f"Published results (run {scenario.states[2].pointer['run_id']})" in scenario.results_command
