"""The cluster's wheelhouse, really resolved on PyPI for CPython 3.11 manylinux x86_64 against requirements.lock
(a subset of the project's requirements: hdfs, whose docopt has no wheel at all, and PyYAML, a C extension)."""

import re
import zipfile

import pytest

from devkit.paths import PROJECT_ROOT
from fruits.cloud.aws import CloudError
from fruits.cloud.wheelhouse import pins, resolve
from tests.support.aws import BUCKET

LOCK = PROJECT_ROOT / "requirements.lock"
SUBSET = ("hdfs", "pyyaml")
CLOSURE = {"hdfs", "pyyaml", "docopt", "requests", "six", "certifi", "charset-normalizer", "idna", "urllib3"}
WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$")


@pytest.fixture(scope="session")
def small_dist(tmp_path_factory):
    """What `package` leaves in dist/, with the cluster's requirements cut to the subset (pinned as the project)."""
    dist = tmp_path_factory.mktemp("dist")
    locked = pins(LOCK)
    (dist / "requirements-emr.txt").write_text("".join(f"{name}=={locked[name]}\n" for name in SUBSET))
    (dist / "requirements.lock").write_text(LOCK.read_text())
    return dist


@pytest.fixture(scope="session")
def resolved(small_dist):
    return resolve(small_dist / "requirements-emr.txt", small_dist / "requirements.lock", small_dist / "wheelhouse")


def test_every_wheel_is_the_locked_version_for_cpython_311_manylinux_x86_64(resolved):
    locked = pins(LOCK)
    parsed = {WHEEL.match(path.name)["name"].lower().replace("_", "-"): WHEEL.match(path.name) for path in resolved}

    assert set(parsed) == CLOSURE
    for name, wheel in parsed.items():
        assert wheel["version"] == locked[name], name
        if wheel["abi"] == "none":  # pure Python
            assert wheel["platform"] == "any" and "py3" in wheel["python"]
        else:
            assert wheel["python"] == "cp311" and wheel["abi"] in ("cp311", "abi3")
            tags = wheel["platform"].split(".")
            assert any(re.fullmatch(r"manylinux(2014|_2_(1[7-9]|2\d|3[0-4]))_x86_64", tag) for tag in tags), tags
    for path in resolved:
        assert zipfile.ZipFile(path).testzip() is None


def test_a_project_with_no_wheel_is_built_into_a_pure_python_one(resolved):
    [docopt] = [path for path in resolved if path.name.startswith("docopt-")]

    assert docopt.name.endswith("-none-any.whl")  # PyPI has only docopt-0.6.2.tar.gz


def test_a_requirement_missing_from_the_lock_stops_in_one_sentence(tmp_path):
    (tmp_path / "requirements.txt").write_text("hdfs==2.7.3\n")
    (tmp_path / "requirements.lock").write_text("hdfs==2.7.3\n")

    pattern = r"^certifi, charset-normalizer, docopt, idna, requests, six, urllib3 needed on the cluster but not pin"
    with pytest.raises(CloudError, match=pattern):
        resolve(tmp_path / "requirements.txt", tmp_path / "requirements.lock", tmp_path / "wheelhouse")


def test_wheelhouse_command_uploads_the_wheels_once(cli, s3, bucket, small_dist, resolved):
    first = cli("wheelhouse", "--dist", str(small_dist)).output

    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="fruits/artifacts/wheelhouse/")
    keys = {item["Key"] for item in listing["Contents"]}
    assert keys == {f"fruits/artifacts/wheelhouse/{path.name}" for path in resolved}
    assert f"{len(CLOSURE)} wheels for CPython 3.11 manylinux x86_64: {len(CLOSURE)} uploaded" in first
    assert f": 0 uploaded, {len(CLOSURE)} unchanged" in cli("wheelhouse", "--dist", str(small_dist)).output


def test_wheelhouse_before_package_says_what_to_do(error, bucket, tmp_path):
    assert "run `fruits-cloud package` first." in error("wheelhouse", "--dist", str(tmp_path))
