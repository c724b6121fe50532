"""`fruits-cloud package`: a real `kedro package` build, the rendered launch files, the four uploads."""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
import tomllib
from kedro.config import OmegaConfigLoader
from packaging.requirements import Requirement

from devkit.paths import PROJECT_ROOT
from fruits.settings import CONFIG_LOADER_ARGS
from tests.support.aws import BUCKET

ARTIFACTS_PREFIX = "fruits/artifacts/"


def uploaded(s3, name):
    return s3.get_object(Bucket=BUCKET, Key=ARTIFACTS_PREFIX + name)["Body"].read().decode()


def artifact_keys(s3):
    return {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=ARTIFACTS_PREFIX).get("Contents", [])}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project (build output and egg-info stay out of the real tree); cwd for the command."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.lock"):
        shutil.copy(PROJECT_ROOT / name, copy / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".*", "*credentials*")
    for name in ("src", "conf"):
        shutil.copytree(PROJECT_ROOT / name, copy / name, ignore=ignore)
    (copy / "conf" / "local" / "credentials.yml").write_text("secret: must-not-ship\n")
    monkeypatch.chdir(copy)
    return copy


@pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning")  # Kedro's own, with omegaconf 2.4
def test_package_builds_renders_and_uploads_six_artifacts(cli, s3, bucket, project, tmp_path, fresh_s3fs):
    result = cli("package")

    wheel = next((project / "dist").glob("fruits-*.whl"))
    assert artifact_keys(s3) == {
        ARTIFACTS_PREFIX + name
        for name in (
            wheel.name,
            "conf-fruits.tar.gz",
            "entrypoint.py",
            "bootstrap.sh",
            "requirements-emr.txt",
            "requirements.lock",
        )
    }
    assert "6 uploaded" in result.output

    # The cluster installs the wheel's pins but EMR's own PySpark; the lock file constrains every version.
    requirements = uploaded(s3, "requirements-emr.txt").splitlines()
    declared = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(requirements) == sorted(
        str(Requirement(line)) for line in declared if Requirement(line).name != "pyspark"
    )
    assert uploaded(s3, "requirements.lock") == (PROJECT_ROOT / "requirements.lock").read_text()

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
    bootstrap = uploaded(s3, "bootstrap.sh")
    assert bootstrap == (project / "dist" / "bootstrap.sh").read_text()
    assert "@" not in bootstrap.replace("$@", "").replace("[@]", "")  # bash, not a placeholder
    assert 'PYTHON="python3.11"' in bootstrap and 'VENV="/opt/fruits/venv"' in bootstrap
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

    assert "0 uploaded, 6 unchanged" in cli("package", "--dist", str(built_dist)).output


def test_cluster_requirements_leave_out_pyspark_and_extras(cli, s3, bucket, built_dist):
    cli("package", "--dist", str(built_dist))

    assert uploaded(s3, "requirements-emr.txt") == "kedro==1.7.0\n"


def test_package_without_build_output_says_what_to_do(error, bucket, tmp_path):
    assert "run `fruits-cloud package` without --dist to build them." in error("package", "--dist", str(tmp_path))


def test_package_outside_a_kedro_project_says_where_to_run(error, bucket):
    assert error("package") == "Error: No Kedro project here: run `fruits-cloud package` from the project root."
