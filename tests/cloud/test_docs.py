"""docs/cloud.md: every `fruits-cloud` command of its code blocks runs against moto, in the page's order, in a copy of
the project; every command of the CLI is documented; Kedro arguments are Kedro 1.x `run` options."""

import gzip
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from devkit.paths import MINI_SET, PROJECT_ROOT
from devkit.project import copy_project
from fruits.cloud.cli import cli as fruits_cloud
from tests.support.aws import BUCKET

DOC = PROJECT_ROOT / "docs" / "cloud.md"


def documented_commands() -> list[list[str]]:
    """Arguments of every `fruits-cloud ...` line in the page's ```bash blocks, comments dropped, in order."""
    blocks = DOC.read_text().split("```bash\n")[1:]
    lines = [line for block in blocks for line in block.split("```")[0].splitlines()]
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith("fruits-cloud ")]


def test_every_command_is_documented():
    assert {args[0] for args in documented_commands()} == set(fruits_cloud.commands)


def test_kedro_arguments_are_kedro_1_run_options():
    runs = [args[args.index("--") + 1 :] for args in documented_commands() if args[0] == "run" and "--" in args]

    assert runs
    for kedro_args in runs:
        assert "--pipeline" not in kedro_args  # deprecated in Kedro 1.x for --pipelines
    # Kedro's own `run` command parses them (an unknown option or a bad value exits non-zero). In a child process:
    # importing Kedro's CLI puts a rich logging handler on the root logger, which would print moto's request log here.
    parse = "import sys; from kedro.framework.cli.project import run; run.make_context('run', sys.argv[1:])"
    for kedro_args in runs:
        subprocess.run([sys.executable, "-c", parse, *kedro_args], check=True, capture_output=True, timeout=120)


def test_documented_commands_run_in_order(cli, request, s3, tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    copy_project(project)
    for name in ("README.md", "requirements.lock"):  # `kedro package` needs them
        shutil.copy(PROJECT_ROOT / name, project / name)
    # The same project with its cluster requirements cut to two (a C extension, and one whose dependency has no
    # wheel), so that `wheelhouse` really resolves and uploads in seconds instead of 2 GiB; test_wheelhouse.py
    # checks the resolution itself.
    pyproject = (project / "pyproject.toml").read_text()
    start = pyproject.index("dependencies = [")
    declared = pyproject[start : pyproject.index("]\n", start)]
    (project / "pyproject.toml").write_text(
        pyproject.replace(declared, 'dependencies = ["hdfs==2.7.3", "pyyaml==6.0.3", "pyspark==3.5.6"')
    )
    monkeypatch.chdir(project)

    def lift_tls_statement():
        """These requests are plain HTTP to moto (see the `bucket` fixture)."""
        s3.delete_bucket_policy(Bucket=BUCKET)

    def step_log():
        state = json.loads(Path(".fruits-cloud/state.json").read_text())
        key = f"fruits/logs/{state['cluster_id']}/steps/{state['step_id']}/stdout.gz"
        s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(b"Pipeline execution completed successfully.\n"))

    def photos_and_model():
        """The folder of class folders the page calls "my photos", and the weights with their conversion as a local
        run leaves them (Keras' cache, data/model_cache), both in place before the first upload."""
        request.getfixturevalue("converted")
        if not Path("my photos").is_dir():
            for label in ("Banana", "Kiwi"):
                shutil.copytree(MINI_SET / label, Path("my photos") / label)

    before = {
        "upload": photos_and_model,
        "doctor": lambda: request.getfixturevalue("account"),  # roles, tags, quota: set up outside fruits-cloud
        "logs": step_log,  # EMR would copy it; moto never runs a step
        "results": lambda: request.getfixturevalue("results"),  # the pipeline would write them
    }
    after = {"bucket": lift_tls_statement, "doctor": lift_tls_statement}
    ran = []
    for args in documented_commands():
        before.get(args[0], lambda: None)()
        cli(*args)
        after.get(args[0], lambda: None)()
        ran.append(args[0])

    assert ran.count("run") == 3 and ran.count("upload") == 3 and "down" in ran and "doctor" in ran
