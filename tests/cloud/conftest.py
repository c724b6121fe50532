"""A real moto server on 127.0.0.1 for the `fruits-cloud` tests (the in-process mock_aws breaks s3fs).

Every test starts from an empty moto, in its own working directory (the CLI keeps state in ./.fruits-cloud),
with fake credentials and no ~/.aws file or instance metadata that could reach a real account.
"""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import s3fs
import yaml
from click.testing import CliRunner, Result

from fruits.cloud.cli import cli as fruits_cloud
from tests.support.aws import AMBIENT_VARIABLES, BUCKET, PREFIX, REGION, isolated_environment, moto_server
from tests.support.paths import AWS_YML


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


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
