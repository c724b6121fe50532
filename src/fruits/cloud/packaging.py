"""Build the deployable artifacts (`kedro package` + two rendered launch files) and where they live in S3."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from kedro.utils import find_kedro_project

from fruits.cloud.aws import CloudError
from fruits.cloud.config import Settings

PACKAGE = __name__.split(".")[0]
BOOTSTRAP = "bootstrap.sh"
ENTRYPOINT = "entrypoint.py"
CONF_ARCHIVE = f"conf-{PACKAGE}.tar.gz"
POLICIES = ("operator", "instance-profile")


def project_root() -> Path:
    """The Kedro project around the working directory (`kedro package` must run there)."""
    root = find_kedro_project(Path.cwd())
    if root is None:
        raise CloudError("No Kedro project here: run `fruits-cloud package` from the project root.")
    return root


def build(root: Path) -> None:
    """Run `kedro package` (wheel + conf archive without conf/local into dist/); show its output only on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "package"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise CloudError(f"`kedro package` failed (exit {result.returncode}):\n{tail}")


def render(resource: str, values: dict[str, str]) -> str:
    """Fill the ``@NAME@`` placeholders of a packaged file (bash, Python and IAM JSON all use ``$``/``{}``)."""
    text = (files("fruits.cloud") / resource).read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise ValueError(f"{resource}: no value for {sorted(set(leftover))}")
    return text


@dataclass(frozen=True)
class Artifacts:
    wheel: Path
    conf: Path
    entrypoint: Path
    bootstrap: Path

    def all(self) -> list[Path]:
        return [self.wheel, self.conf, self.entrypoint, self.bootstrap]


def collect(dist: Path, settings: Settings) -> Artifacts:
    """Find the newest wheel and the conf archive in ``dist`` and render the two launch files next to them."""
    wheels = sorted(dist.glob(f"{PACKAGE}-*.whl"), key=lambda path: path.stat().st_mtime)
    conf = dist / CONF_ARCHIVE
    if not wheels or not conf.is_file():
        raise CloudError(
            f"No {PACKAGE} wheel and {CONF_ARCHIVE} in {dist}: run `fruits-cloud package` without --dist to build them."
        )
    bootstrap = settings.spec["bootstrap"]
    values = {"PACKAGE": PACKAGE, "PYTHON": bootstrap["python"], "VENV": bootstrap["venv"]}
    (dist / ENTRYPOINT).write_text(render(f"templates/{ENTRYPOINT}", values))
    (dist / BOOTSTRAP).write_text(render(f"templates/{BOOTSTRAP}", values))
    return Artifacts(wheel=wheels[-1], conf=conf, entrypoint=dist / ENTRYPOINT, bootstrap=dist / BOOTSTRAP)


def node_python(settings: Settings) -> str:
    """Interpreter of the project's virtualenv, which the bootstrap action creates on every EMR node."""
    return f"{settings.spec['bootstrap']['venv']}/bin/python"


def artifact_key(settings: Settings, name: str) -> str:
    """All deployables sit side by side under ``<prefix>/artifacts/``."""
    return settings.key("artifacts", name)


def policy(settings: Settings, name: str) -> str:
    """An IAM policy document of ``policies/`` scoped to this deployment's bucket, prefix, region, tag and roles."""
    cluster = settings.spec["cluster"]
    values = {
        "BUCKET": settings.bucket,
        "PREFIX": settings.prefix,
        "REGION": settings.region,
        "PROJECT_TAG": str(settings.spec["tags"]["project"]),
        "SERVICE_ROLE": cluster["service_role"],
        "JOB_FLOW_ROLE": cluster["job_flow_role"],
    }
    return render(f"policies/{name}-policy.json", values)
