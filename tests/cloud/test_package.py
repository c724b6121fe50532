"""`fruits-cloud package`: a real `kedro package` build, the rendered launch files, the four uploads."""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
from kedro.config import OmegaConfigLoader

from fruits.settings import CONFIG_LOADER_ARGS
from tests.support.aws import BUCKET
from tests.support.paths import PROJECT_ROOT

ARTIFACTS_PREFIX = "fruits/artifacts/"


def artifact_keys(s3):
    return {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=ARTIFACTS_PREFIX).get("Contents", [])}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project (build output and egg-info stay out of the real tree); cwd for the command."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, copy / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*", "*credentials*")
    for name in ("src", "conf"):
        shutil.copytree(PROJECT_ROOT / name, copy / name, ignore=ignore)
    (copy / "conf" / "local" / "credentials.yml").write_text("secret: must-not-ship\n")
    monkeypatch.chdir(copy)
    return copy


@pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning")  # Kedro's own, with omegaconf 2.4
def test_package_builds_renders_and_uploads_four_artifacts(cli, s3, bucket, project, tmp_path, fresh_s3fs):
    result = cli("package")

    wheel = next((project / "dist").glob("fruits-*.whl"))
    assert artifact_keys(s3) == {
        ARTIFACTS_PREFIX + name for name in (wheel.name, "conf-fruits.tar.gz", "entrypoint.py", "bootstrap.sh")
    }
    assert "4 uploaded" in result.output

    # The wheel carries the package and the cloud templates/policies (package-data).
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "fruits/__main__.py",
        "fruits/cloud/templates/bootstrap.sh",
        "fruits/cloud/policies/operator-policy.json",
    } <= names
    # The conf archive holds base and cloud, and never conf/local/*.yml.
    with tarfile.open(project / "dist" / "conf-fruits.tar.gz") as archive:
        members = set(archive.getnames())
    assert {"conf/base/catalog.yml", "conf/cloud/aws.yml"} <= members
    assert "conf/local/credentials.yml" not in members

    # What EMR will run is what was rendered locally.
    bootstrap = s3.get_object(Bucket=BUCKET, Key=ARTIFACTS_PREFIX + "bootstrap.sh")["Body"].read().decode()
    assert bootstrap == (project / "dist" / "bootstrap.sh").read_text()
    assert "@" not in bootstrap.replace("$@", "")
    assert "dnf install -y python3.11 python3.11-pip" in bootstrap
    assert 'VENV="/opt/fruits/venv"' in bootstrap
    subprocess.run(["bash", "-n", project / "dist" / "bootstrap.sh"], check=True)

    # The entrypoint, importing fruits from the built wheel alone, is Kedro's `run` command.
    entrypoint = project / "dist" / "entrypoint.py"
    help_text = subprocess.run(
        [sys.executable, entrypoint, "--help"],
        env={**os.environ, "PYTHONPATH": str(wheel)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--conf-source" in help_text and "--env" in help_text and "--pipeline" in help_text

    # `--conf-source s3://.../conf-fruits.tar.gz` as the cluster will use it, with the project's loader settings.
    loader = OmegaConfigLoader(
        conf_source=f"s3://{BUCKET}/{ARTIFACTS_PREFIX}conf-fruits.tar.gz", env="cloud", **CONFIG_LOADER_ARGS
    )
    assert loader["parameters"] and loader["catalog"]


def test_second_package_with_same_artifacts_uploads_nothing(cli, bucket, built_dist):
    cli("package", "--dist", str(built_dist))

    assert "0 uploaded, 4 unchanged" in cli("package", "--dist", str(built_dist)).output


def test_package_without_build_output_says_what_to_do(error, bucket, tmp_path):
    assert "run `fruits-cloud package` without --dist to build them." in error("package", "--dist", str(tmp_path))


def test_package_outside_a_kedro_project_says_where_to_run(error, bucket):
    assert error("package") == "Error: No Kedro project here: run `fruits-cloud package` from the project root."
