"""A real moto server on 127.0.0.1 for the `fruits-cloud` tests (the in-process mock_aws breaks s3fs).

Every test starts from an empty moto, in its own working directory (the CLI keeps state in ./.fruits-cloud),
with fake credentials and no ~/.aws file or instance metadata that could reach a real account.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pyarrow as pa
import pytest
import requests
import s3fs
import yaml
from click.testing import CliRunner, Result
from deltalake import write_deltalake
from moto.servicequotas.models import ServiceQuotasBackend

from devkit.paths import AWS_YML
from fruits.cloud.cli import cli as fruits_cloud
from fruits.cloud.model import LOCAL_MODEL_CACHE
from fruits.datasets.inference_model import conversion_name, keras_weights_name
from fruits.engines import model_fingerprint
from fruits.publishing import Publication
from fruits.tables import TABLES
from tests.support.aws import AMBIENT_VARIABLES, BUCKET, PREFIX, REGION, isolated_environment
from tests.support.paths import FIXTURE_MODEL, require_weights


@pytest.fixture(autouse=True)
def aws(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Empty moto + an environment in which boto3 (and s3fs) can only talk to it."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    for name in AMBIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    aws_home = tmp_path / "aws-home"
    aws_home.mkdir()
    for name, value in isolated_environment(moto_url, aws_home).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FRUITS_BUCKET", BUCKET)
    monkeypatch.setenv("FRUITS_PREFIX", PREFIX)
    monkeypatch.setenv("FRUITS_CLOUD_CONFIG", str(AWS_YML))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables: no truncated ids
    monkeypatch.chdir(tmp_path)
    # As in a real `fruits-cloud` process, no Kedro logging handler (imported by other test modules) prints
    # library logs into the command's output.
    monkeypatch.setattr(logging.root, "handlers", [])
    # Each real CLI call is a new process; here, drop boto3's cached default session (and its credentials).
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return moto_url


@pytest.fixture
def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def emr() -> Any:
    return boto3.client("emr", region_name=REGION)


@pytest.fixture
def fresh_s3fs() -> None:
    """s3fs caches filesystems and their listings per process, but moto is emptied between tests."""
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke `fruits-cloud ARGS`; by default assert it succeeded (showing its output when not)."""

    def invoke(*args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(fruits_cloud, list(args))
        if ok:
            assert result.exit_code == 0, result.output + repr(result.exception)
        return result

    return invoke


@pytest.fixture
def error(cli: Callable[..., Result]) -> Callable[..., str]:
    """Invoke a command that must fail the way users should see it: exit 1, no traceback, and the
    last line is ``Error: <one sentence>``; returns that line."""

    def invoke(*args: str) -> str:
        result = cli(*args, ok=False)
        assert result.exit_code == 1, result.output + repr(result.exception)
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
        last = result.output.strip().splitlines()[-1]
        assert last.startswith("Error: ") and result.output.count("Error: ") == 1, result.output
        return last

    return invoke


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[dict], None]], dict]:
    """Point the CLI at a copy of aws.yml changed by ``edit``; returns the edited spec."""

    def write(edit: Callable[[dict], None]) -> dict:
        content = yaml.safe_load(AWS_YML.read_text())
        edit(content)
        path = tmp_path / "aws.yml"
        path.write_text(yaml.safe_dump(content))
        monkeypatch.setenv("FRUITS_CLOUD_CONFIG", str(path))
        return content

    return write


@pytest.fixture
def bucket(cli: Callable[..., Result], s3: Any) -> str:
    """The bucket as `fruits-cloud bucket` makes it, less its TLS-only statement: these tests talk plain HTTP to
    moto, which S3 itself would then refuse (moto 5.2.5 refuses every object request under that Deny, since it
    does not evaluate conditions). test_bucket.py and test_doctor.py check the statement."""
    cli("bucket")
    s3.delete_bucket_policy(Bucket=BUCKET)
    return BUCKET


DistMaker = Callable[[Path, list[str]], Path]


@pytest.fixture(scope="session")
def make_dist() -> DistMaker:
    """Write a dist/ folder as `fruits-cloud package` leaves it: a small real `fruits` wheel declaring ``requires``,
    a conf archive and a lock file."""

    def make(dist: Path, requires: list[str]) -> Path:
        metadata = "Metadata-Version: 2.1\nName: fruits\nVersion: 0.1\n"
        metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
        with zipfile.ZipFile(dist / "fruits-0.1-py3-none-any.whl", "w") as wheel:
            wheel.writestr("fruits/__init__.py", '__version__ = "0.1"\n')
            wheel.writestr("fruits-0.1.dist-info/METADATA", metadata)
            wheel.writestr(
                "fruits-0.1.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            )
            wheel.writestr("fruits-0.1.dist-info/RECORD", "")
        (dist / "conf-fruits.tar.gz").write_bytes(b"conf")
        (dist / "requirements.lock").write_text("kedro==1.7.0\npyspark==3.5.6\npy4j==0.10.9.7\n")
        return dist

    return make


@pytest.fixture(scope="session")
def built_dist(tmp_path_factory: pytest.TempPathFactory, make_dist: DistMaker) -> Path:
    """What a `kedro package` wheel declares: its pins, PySpark among them, and an extra that must not be installed."""
    requires = [
        "kedro==1.7.0",
        "pyspark==3.5.6",
        'tomli>=1.1.0; python_version < "3.0"',
        'pytest==9.2.0; extra == "test"',
    ]
    return make_dist(tmp_path_factory.mktemp("dist"), requires)


@pytest.fixture
def packaged(cli: Callable[..., Result], bucket: str, built_dist: Path) -> str:
    cli("package", "--dist", str(built_dist))
    return bucket


@pytest.fixture
def cluster_id(cli: Callable[..., Result], packaged: str) -> str:
    cli("up")
    return json.loads(Path(".fruits-cloud/state.json").read_text())["cluster_id"]


@pytest.fixture
def recorded_requests(aws: str) -> Iterator[Callable[[str], list[tuple[str, dict]]]]:
    """(target, JSON body) of the requests moto received whose X-Amz-Target starts with the given text,
    e.g. ``ElasticMapReduce.RunJobFlow`` or ``ElasticMapReduce.`` for all EMR calls.

    moto does not keep every field (AutoTerminationPolicy, for one): its recorder shows what was sent.
    """
    requests.post(f"{aws}/moto-api/recorder/reset-recording", timeout=10)
    requests.post(f"{aws}/moto-api/recorder/start-recording", timeout=10)

    def received(target: str) -> list[tuple[str, dict]]:
        lines = requests.get(f"{aws}/moto-api/recorder/download-recording", timeout=10).text.splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
        return [
            (
                entry["headers"]["X-Amz-Target"],
                json.loads(base64.b64decode(entry["body"]) if entry["body_encoded"] else entry["body"]),
            )
            for entry in entries
            if entry["headers"].get("X-Amz-Target", "").startswith(target)
        ]

    yield received
    requests.post(f"{aws}/moto-api/recorder/stop-recording", timeout=10)


@pytest.fixture
def recorded_writes(aws: str) -> Iterator[Callable[[], list[str]]]:
    """The requests moto received that could change something (other than GET and HEAD), as "METHOD URL"."""
    requests.post(f"{aws}/moto-api/recorder/reset-recording", timeout=10)
    requests.post(f"{aws}/moto-api/recorder/start-recording", timeout=10)

    def received() -> list[str]:
        lines = requests.get(f"{aws}/moto-api/recorder/download-recording", timeout=10).text.splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
        return [f"{entry['method']} {entry['url']}" for entry in entries if entry["method"] not in ("GET", "HEAD")]

    yield received
    requests.post(f"{aws}/moto-api/recorder/stop-recording", timeout=10)


RESULT_LABELS = ["Apple Granny Smith", "Banana", "Banana", "Kiwi", "Kiwi", "Kiwi"]
RUN_ID = "20261129T120000.000000Z-test"


@pytest.fixture
def results(bucket, fresh_s3fs):
    """What a published run leaves: the results Delta table (written by delta-rs, no Spark), and data/current.json
    naming its version."""
    rng = np.random.default_rng(0)
    rows = [
        {
            "path": f"s3a://{BUCKET}/fruits/data/01_raw/fruits-360-mini/Test/{label}/{index}_100.jpg",
            "label": label,
            "change_key": f"etag:{index}",
            "fingerprint": "tflite-test",
            "pca_features": rng.random(12, dtype=np.float32).tolist(),
            "pca_run_id": RUN_ID,
        }
        for index, label in enumerate(RESULT_LABELS)
    ]
    table = f"s3://{BUCKET}/fruits/data/{TABLES['results'].location}"
    options = {"AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}  # one writer, a local S3
    for chunk in (rows[:3], rows[3:]):
        write_deltalake(table, pa.Table.from_pylist(chunk, schema=TABLES["results"].schema), mode="append",
                        storage_options=options)
    pointer = Publication(run_id=RUN_ID, tables={"results": 1})
    s3fs.S3FileSystem().pipe_file(f"{BUCKET}/fruits/data/current.json", pointer.to_json().encode())
    return rows


WEIGHTS_NAME = keras_weights_name(224)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """Keras' cache holding the ImageNet weights (the real file), as after one download."""
    home = tmp_path / "keras"
    (home / "models").mkdir(parents=True)
    (home / "models" / WEIGHTS_NAME).symlink_to(require_weights())
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def converted(keras_home):
    """The local cache as a run that converted these weights leaves it; the committed tiny model stands in for the
    conversion (same cache name, computed by the dataset's own functions), so no test converts with TensorFlow."""
    fingerprint = model_fingerprint(hashlib.sha256(require_weights().read_bytes()).hexdigest(), "tflite", 224)
    LOCAL_MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE_MODEL, LOCAL_MODEL_CACHE / conversion_name(fingerprint))
    return conversion_name(fingerprint)


MANAGED_POLICY_TAG = {"Key": "for-use-with-amazon-emr-managed-policies", "Value": "true"}
MOTO_GET_SERVICE_QUOTA = ServiceQuotasBackend.get_service_quota


def _with_ec2_quota(value: float) -> Callable[..., dict]:
    """moto 5.2.5 only knows VPC quotas: answer the EC2 vCPU one from its backend (the server runs in this process)."""

    def get_service_quota(self: ServiceQuotasBackend, service_code: str, quota_code: str) -> dict:
        if (service_code, quota_code) == ("ec2", "L-1216C47A"):
            return {"ServiceCode": service_code, "QuotaCode": quota_code, "QuotaName": "Standard", "Value": value}
        return MOTO_GET_SERVICE_QUOTA(self, service_code, quota_code)

    return get_service_quota


@pytest.fixture
def account(
    cli: Callable[..., Result], packaged: str, converted: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Everything `up` needs: bucket with its TLS-only policy, artifacts, the model, roles, tagged network and
    security groups, an S3 gateway endpoint, EBS encryption by default, 64 vCPUs.

    ``set_quota(value)`` changes the EC2 vCPU quota; ``set_quota(None)`` leaves it to moto, which has none.
    """
    cli("upload", "--weights", "imagenet")
    cli("bucket")  # re-applies the TLS statement the `bucket` fixture left out for the uploads
    iam = boto3.client("iam", region_name=REGION)
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    for role in ("EMR_DefaultRole_V2", "EMR_EC2_DefaultRole"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    iam.create_instance_profile(InstanceProfileName="EMR_EC2_DefaultRole")
    ec2 = boto3.client("ec2", region_name=REGION)
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    vpc_id = subnets[0]["VpcId"]
    ec2.create_tags(Resources=[subnet["SubnetId"] for subnet in subnets] + [vpc_id], Tags=[MANAGED_POLICY_TAG])
    # The ElasticMapReduce-* groups an earlier cluster would have left, tagged by hand as the docs say.
    groups = [
        ec2.create_security_group(GroupName=name, Description="EMR-managed", VpcId=vpc_id)["GroupId"]
        for name in ("ElasticMapReduce-master", "ElasticMapReduce-slave")
    ]
    ec2.create_tags(Resources=groups, Tags=[MANAGED_POLICY_TAG])
    # The recommended network: S3 through a gateway endpoint on the subnets' route table; EBS encrypted by default.
    [main_table] = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        ServiceName=f"com.amazonaws.{REGION}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[main_table["RouteTableId"]],
    )["VpcEndpoint"]
    ec2.enable_ebs_encryption_by_default()

    def set_quota(value: float | None) -> None:
        quota = MOTO_GET_SERVICE_QUOTA if value is None else _with_ec2_quota(value)
        monkeypatch.setattr(ServiceQuotasBackend, "get_service_quota", quota)

    set_quota(64.0)
    return {
        "iam": iam,
        "ec2": ec2,
        "subnets": subnets,
        "tag": MANAGED_POLICY_TAG,
        "set_quota": set_quota,
        "security_groups": groups,
        "route_table": main_table["RouteTableId"],
        "endpoint": endpoint["VpcEndpointId"],
    }
