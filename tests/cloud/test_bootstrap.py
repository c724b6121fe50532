"""The rendered bootstrap action, run for real: artifacts from moto, a venv without PyPI's pyspark, no pip cache.

Only `sudo` and `aws s3 cp` are stand-ins (shell shims on PATH; `aws` copies from moto with boto3); pip runs offline
(PIP_NO_INDEX), so the wheel's one installable requirement is pip itself.
"""

import os
import re
import subprocess
import sys

import pytest

from tests.support.aws import BUCKET

AWS_SHIM = """#!{python}
import sys, pathlib, boto3
_, service, verb, source, target = sys.argv
assert (service, verb) == ("s3", "cp"), sys.argv
bucket, key = source.removeprefix("s3://").split("/", 1)
path = pathlib.Path(target)
path = path / key.rsplit("/", 1)[-1] if target.endswith("/") else path
boto3.client("s3").download_file(bucket, key, str(path))
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
    """A wheel that needs pip (already in any venv) and pyspark (which EMR provides)."""
    (tmp_path / "dist").mkdir()
    return make_dist(tmp_path / "dist", ["pip>=20", "pyspark==3.5.6"])


def test_bootstrap_builds_the_venv_without_pyspark(cli, bucket, spec, tmp_path, shims, offline_dist):
    venv = tmp_path / "opt" / "venv"
    spec(lambda content: content["bootstrap"].update(python=sys.executable, venv=str(venv)))
    cli("package", "--dist", str(offline_dist))
    artifacts = f"s3://{BUCKET}/fruits/artifacts"
    script = offline_dist / "bootstrap.sh"

    result = subprocess.run(
        ["bash", str(script), f"{artifacts}/fruits-0.1-py3-none-any.whl",
         f"{artifacts}/requirements-emr.txt", f"{artifacts}/requirements.lock"],  # fmt: skip
        env={**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "PIP_NO_INDEX": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "fruits ready on Python" in result.stdout
    site = next(venv.glob("lib/python*/site-packages"))
    assert (site / "fruits" / "__init__.py").is_file() and not list(site.glob("pyspark*"))
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    pip_calls = re.findall(r"^\+ .*-m pip install.*$", result.stderr, flags=re.MULTILINE)  # set -x trace
    assert len(pip_calls) == 3 and all("--no-cache-dir" in call for call in pip_calls)
    assert "KEDRO_DISABLE_TELEMETRY=true" in result.stderr
    assert "dnf install" not in script.read_text()  # EMR 7 ships python3.11: nothing installed from the OS
