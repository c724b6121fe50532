"""Build the deployable artifacts (`kedro package` + two rendered launch files) and where they live in S3."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from importlib.resources import files
from pathlib import Path

from kedro.utils import find_kedro_project
from packaging.requirements import Requirement

from fruits.cloud.aws import CloudError
from fruits.cloud.config import Settings

PACKAGE = __name__.split(".")[0]
BOOTSTRAP = "bootstrap.sh"
ENTRYPOINT = "entrypoint.py"
CONF_ARCHIVE = f"conf-{PACKAGE}.tar.gz"
LOCK_FILE = "requirements.lock"  # the project's pinned set: the bootstrap's pip constraints
REQUIREMENTS = "requirements-emr.txt"  # the wheel's requirements less what EMR provides
POLICIES = ("operator", "instance-profile")
# EMR's Spark brings its own PySpark and Py4J (spark-submit puts them on the Python path of the driver and the
# executors); PyPI's would shadow the cluster's build (Spark 3.5.6-amzn on emr-7.12.0:
# https://docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-release-app-versions-7.x.html).
EMR_PROVIDED = frozenset({"pyspark", "py4j"})


def project_root() -> Path:
    """The Kedro project around the working directory (`kedro package` must run there)."""
    root = find_kedro_project(Path.cwd())
    if root is None:
        raise CloudError("No Kedro project here: run `fruits-cloud package` from the project root.")
    return root


def build(root: Path) -> None:
    """Run `kedro package` (wheel + conf archive without conf/local into dist/) and put the lock file beside them;
    show the build's output only on failure. Kedro's telemetry is off: nothing leaves the machine (GDPR)."""
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "package"],
        cwd=root,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise CloudError(f"`kedro package` failed (exit {result.returncode}):\n{tail}")
    shutil.copy(root / LOCK_FILE, root / "dist" / LOCK_FILE)


def render(resource: str, values: dict[str, str]) -> str:
    """Fill the ``@NAME@`` placeholders of a packaged file (bash, Python and IAM JSON all use ``$``/``{}``)."""
    text = (files("fruits.cloud") / resource).read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise ValueError(f"{resource}: no value for {sorted(set(leftover))}")
    return text


def cluster_requirements(wheel: Path) -> list[str]:
    """The wheel's own requirements (``Requires-Dist`` without extras) less what EMR provides."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        requires = Parser().parsestr(archive.read(metadata).decode()).get_all("Requires-Dist") or []
    kept = []
    for line in requires:
        requirement = Requirement(line)
        if requirement.name.lower() in EMR_PROVIDED or (
            requirement.marker and not requirement.marker.evaluate({"extra": ""})
        ):
            continue
        requirement.marker = None
        kept.append(str(requirement))
    return kept


@dataclass(frozen=True)
class Artifacts:
    wheel: Path
    conf: Path
    entrypoint: Path
    bootstrap: Path
    requirements: Path
    lock: Path

    def all(self) -> list[Path]:
        return [self.wheel, self.conf, self.entrypoint, self.bootstrap, self.requirements, self.lock]


def collect(dist: Path, settings: Settings) -> Artifacts:
    """Find the newest wheel, the conf archive and the lock file in ``dist``; write the launch files and the
    cluster's requirements next to them."""
    wheels = sorted(dist.glob(f"{PACKAGE}-*.whl"), key=lambda path: path.stat().st_mtime)
    conf, lock = dist / CONF_ARCHIVE, dist / LOCK_FILE
    if not wheels or not conf.is_file() or not lock.is_file():
        raise CloudError(
            f"No {PACKAGE} wheel, {CONF_ARCHIVE} and {LOCK_FILE} in {dist}: "
            "run `fruits-cloud package` without --dist to build them."
        )
    bootstrap = settings.spec["bootstrap"]
    values = {"PACKAGE": PACKAGE, "PYTHON": bootstrap["python"], "VENV": bootstrap["venv"]}
    (dist / ENTRYPOINT).write_text(render(f"templates/{ENTRYPOINT}", values))
    (dist / BOOTSTRAP).write_text(render(f"templates/{BOOTSTRAP}", values))
    (dist / REQUIREMENTS).write_text("\n".join(cluster_requirements(wheels[-1])) + "\n")
    return Artifacts(
        wheel=wheels[-1],
        conf=conf,
        entrypoint=dist / ENTRYPOINT,
        bootstrap=dist / BOOTSTRAP,
        requirements=dist / REQUIREMENTS,
        lock=lock,
    )


def node_python(settings: Settings) -> str:
    """Interpreter of the project's virtualenv, which the bootstrap action creates on every EMR node."""
    return f"{settings.spec['bootstrap']['venv']}/bin/python"


def artifact_key(settings: Settings, name: str) -> str:
    """All deployables sit side by side under ``<prefix>/artifacts/``."""
    return settings.key("artifacts", name)


def policy(settings: Settings, name: str) -> str:
    """An IAM policy document of ``policies/`` scoped to this deployment's bucket, prefix, region, tag, roles and
    Glue database, with the statements only some deployments need (SSE-KMS, spot instances)."""
    cluster = settings.spec["cluster"]
    values = {
        "BUCKET": settings.bucket,
        "PREFIX": settings.prefix,
        "REGION": settings.region,
        "PROJECT_TAG": str(settings.spec["tags"]["project"]),
        "SERVICE_ROLE": cluster["service_role"],
        "JOB_FLOW_ROLE": cluster["job_flow_role"],
        "GLUE_DATABASE": glue_database(settings),
    }
    document = json.loads(render(f"policies/{name}-policy.json", values))
    document["Statement"] += kms_statements(settings)
    if name == "operator" and any(group["market"] == "SPOT" and group["count"] for group in cluster["instance_groups"]):
        document["Statement"].append(SPOT_SERVICE_LINKED_ROLE)
    return json.dumps(document, indent=2)


# A first spot request in an account creates EC2's spot service-linked role with the caller's permissions.
SPOT_SERVICE_LINKED_ROLE = {
    "Sid": "LetEc2CreateItsSpotRoleOnFirstSpotRequest",
    "Effect": "Allow",
    "Action": "iam:CreateServiceLinkedRole",
    "Resource": "arn:aws:iam::*:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
    "Condition": {"StringEquals": {"iam:AWSServiceName": "spot.amazonaws.com"}},
}


def glue_database(settings: Settings) -> str:
    """The Glue Data Catalog database the tables are registered in (aws.yml ``glue.database``)."""
    return str((settings.spec.get("glue") or {}).get("database", "fruits"))


def kms_statements(settings: Settings) -> list[dict[str, object]]:
    """With SSE-KMS, S3 calls KMS as the caller: reading needs kms:Decrypt, writing kms:GenerateDataKey, on the
    bucket's key (its ARN when aws.yml gives one, else any key used through S3 in the region, e.g. aws/s3)."""
    encryption = settings.spec["encryption"]
    if encryption["algorithm"] != "aws:kms":
        return []
    key = str(encryption.get("kms_key_id") or "")
    return [
        {
            "Sid": "UseTheBucketKmsKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key if key.startswith("arn:aws:kms:") else f"arn:aws:kms:{settings.region}:*:key/*",
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{settings.region}.amazonaws.com"}},
        }
    ]
