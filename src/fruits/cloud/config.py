"""Where things live: the deployment spec (conf/cloud/aws.yml), S3 locations, and the local state file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fruits.cloud.aws import CloudError

DEFAULT_CONFIG = Path("conf/cloud/aws.yml")
STATE_DIR = Path(".fruits-cloud")


@dataclass(frozen=True)
class Settings:
    """One deployment: region, bucket and prefix (after CLI/env overrides) plus the rest of the spec."""

    region: str
    bucket_name: str | None
    prefix: str
    spec: dict[str, Any]

    @property
    def bucket(self) -> str:
        """The project bucket; there is no default: a shipped name would be someone else's bucket (in a policy you
        attach, in a request you send)."""
        if not self.bucket_name:
            raise CloudError(
                "No bucket name: export FRUITS_BUCKET=<your bucket> (or pass --bucket, or set bucket: in aws.yml)."
            )
        return self.bucket_name

    def key(self, *parts: str) -> str:
        """Object key under the project prefix, so several projects can share one bucket."""
        return "/".join([self.prefix, *(part.strip("/") for part in parts)])

    def uri(self, *parts: str) -> str:
        """``s3://`` URI of a key under the project prefix, as EMR and spark-submit expect it."""
        return f"s3://{self.bucket}/{self.key(*parts)}"

    @property
    def log_uri(self) -> str:
        """EMR LogUri: step, bootstrap and node logs land here (same bucket, same region)."""
        return self.uri("logs") + "/"


def load_settings(config: Path, region: str | None, bucket: str | None, prefix: str | None) -> Settings:
    """Read the spec; explicit values (CLI option or environment variable) win over the file."""
    if not config.is_file():
        raise CloudError(f"Config file {config} not found: run from the project root or pass --config.")
    spec = yaml.safe_load(config.read_text()) or {}
    return Settings(
        region=region or spec.get("region", "eu-west-3"),
        bucket_name=bucket or spec.get("bucket"),
        prefix=(prefix or spec.get("prefix", "fruits")).strip("/"),
        spec=spec,
    )


def load_state() -> dict[str, str]:
    """Ids remembered from earlier commands (last cluster, last step), so they need not be retyped."""
    path = STATE_DIR / "state.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def save_state(**values: str | None) -> None:
    """Remember ids (None forgets one) in ./.fruits-cloud/, which git-ignores itself: ids are per user."""
    STATE_DIR.mkdir(exist_ok=True)
    (STATE_DIR / ".gitignore").write_text("*\n")
    state = {name: value for name, value in {**load_state(), **values}.items() if value is not None}
    (STATE_DIR / "state.json").write_text(json.dumps(state, indent=2) + "\n")


def remembered(name: str, value: str | None) -> str:
    """The id given on the command line, else the one saved by `up` (cluster_id) or `run` (step_id)."""
    found = value or load_state().get(name)
    if found is None:
        command = "up" if name == "cluster_id" else "run"
        raise CloudError(
            f"No {name.replace('_', ' ')}: pass --{name.replace('_', '-')} or run `fruits-cloud {command}` first."
        )
    return found
