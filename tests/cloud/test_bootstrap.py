"""The rendered bootstrap action, run for real: artifacts and the wheelhouse from moto, a venv without PyPI's pyspark,
no pip cache, nothing from an index.

Only `sudo`, `dnf` and `aws s3 cp` are stand-ins (shell shims on PATH; `aws` copies from moto with boto3); pip runs
offline (PIP_NO_INDEX), so the wheel's requirement (six) can only come from the wheelhouse, which `fruits-cloud
wheelhouse` really resolves on PyPI.
"""

import os
import re
import subprocess
import sys

import pytest

from tests.support.aws import BUCKET

AWS_SHIM = """#!{python}
import sys, pathlib, boto3
args = [arg for arg in sys.argv[1:] if arg != "--quiet"]
recursive = "--recursive" in args
service, verb, source, target = [arg for arg in args if arg != "--recursive"]
assert (service, verb) == ("s3", "cp"), sys.argv
bucket, key = source.removeprefix("s3://").split("/", 1)
s3 = boto3.client("s3")
keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]] if recursive else [key]
for each in keys:
    path = pathlib.Path(target)
    if recursive or target.endswith("/"):
        path = path / (each.removeprefix(key) if recursive else each.rsplit("/", 1)[-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    s3.download_file(bucket, each, str(path))
"""
# A python3.11 without ensurepip until dnf installs python3.11-pip (as on Amazon Linux 2023 before the package).
PYTHON_WITHOUT_ENSUREPIP = """#!/bin/bash
if [ "$*" = "-c import ensurepip" ] && [ ! -f "{marker}" ]; then exit 1; fi
exec {python} "$@"
"""
DNF_SHIM = """#!/bin/bash
echo "$@" >> "{log}"
touch "{marker}"
"""


@pytest.fixture
def shims(tmp_path):
    folder = tmp_path / "shims"
    folder.mkdir()
    (folder / "sudo").write_text('#!/bin/bash\nexec "$@"\n')
    (folder / "aws").write_text(AWS_SHIM.format(python=sys.executable))
    for shim in folder.iterdir():
        shim.chmod(0o755)
    return folder


@pytest.fixture
def offline_dist(tmp_path, make_dist):
    """A wheel that needs six (only in the wheelhouse) and pyspark (which EMR provides), six pinned in the lock."""
    (tmp_path / "dist").mkdir()
    dist = make_dist(tmp_path / "dist", ["six==1.17.0", "pyspark==3.5.6"])
    (dist / "requirements.lock").write_text("six==1.17.0\npyspark==3.5.6\npy4j==0.10.9.7\n")
    return dist


def run_bootstrap(script, artifacts, shims, *wheelhouse):
    return subprocess.run(
        ["bash", str(script), f"{artifacts}/fruits-0.1-py3-none-any.whl",
         f"{artifacts}/requirements-emr.txt", f"{artifacts}/requirements.lock", *wheelhouse],  # fmt: skip
        env={**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "PIP_NO_INDEX": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_bootstrap_builds_the_venv_from_the_wheelhouse(cli, bucket, spec, tmp_path, shims, offline_dist):
    """No pyspark, no pip cache, no index: what the nodes of a private subnet get."""
    venv = tmp_path / "opt" / "venv"
    spec(lambda content: content["bootstrap"].update(python=sys.executable, venv=str(venv)))
    cli("package", "--dist", str(offline_dist))
    cli("wheelhouse", "--dist", str(offline_dist))
    artifacts = f"s3://{BUCKET}/fruits/artifacts"
    script = offline_dist / "bootstrap.sh"

    result = run_bootstrap(script, artifacts, shims, f"{artifacts}/wheelhouse/")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "fruits ready on Python" in result.stdout
    site = next(venv.glob("lib/python*/site-packages"))
    assert (site / "fruits" / "__init__.py").is_file() and not list(site.glob("pyspark*"))
    assert (site / "six.py").is_file()  # from the wheelhouse: no index was reachable
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    pip_calls = re.findall(r"^\+ .*-m pip install.*$", result.stderr, flags=re.MULTILINE)  # set -x trace
    assert len(pip_calls) == 2 and all("--no-cache-dir" in call and "--no-index" in call for call in pip_calls)
    assert "KEDRO_DISABLE_TELEMETRY=true" in result.stderr
    assert not (tmp_path / "dnf.log").exists()  # ensurepip was there: nothing installed from the OS


def test_without_ensurepip_the_bootstrap_installs_python_pip(cli, bucket, spec, tmp_path, shims, offline_dist):
    python = shims / "python3.11"
    python.write_text(PYTHON_WITHOUT_ENSUREPIP.format(marker=tmp_path / "pip-installed", python=sys.executable))
    python.chmod(0o755)
    (shims / "dnf").write_text(DNF_SHIM.format(log=tmp_path / "dnf.log", marker=tmp_path / "pip-installed"))
    (shims / "dnf").chmod(0o755)
    spec(lambda content: content["bootstrap"].update(python=str(python), venv=str(tmp_path / "venv")))
    cli("package", "--dist", str(offline_dist))
    cli("wheelhouse", "--dist", str(offline_dist))
    artifacts = f"s3://{BUCKET}/fruits/artifacts"

    result = run_bootstrap(offline_dist / "bootstrap.sh", artifacts, shims, f"{artifacts}/wheelhouse/")

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "dnf.log").read_text() == "install -y -q python3.11-pip\n"
