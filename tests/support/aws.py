"""A real AWS endpoint on 127.0.0.1 (moto server) and an environment in which nothing else is reachable."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Read by moto when it is imported: where its request recorder writes (tests read what EMR was sent), and no
# loading of ~1,300 default AMIs each time a reset recreates EC2.
os.environ.setdefault("MOTO_RECORDER_FILEPATH", os.path.join(tempfile.mkdtemp(prefix="moto-"), "recording.jsonl"))
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
from moto.server import ThreadedMotoServer

REGION = "eu-west-3"
BUCKET = "fruits-test-bucket"
PREFIX = "fruits"
ACCESS_KEY = SECRET_KEY = "testing"  # fake: moto accepts anything
# Variables that could point boto3, s3fs or the project at a real account or at another data location.
AMBIENT_VARIABLES = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "FRUITS_REGION",
    "FRUITS_SOURCE",
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    """moto in a thread of this process (the in-process mock_aws breaks s3fs); yields its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def isolated_environment(endpoint: str, aws_home: Path) -> dict[str, str]:
    """Variables under which boto3, s3fs and the Java SDK only reach ``endpoint``, with fake credentials.

    The AWS config and credentials files exist but are empty: no profile of this machine can be picked up (the Java
    SDK logs a stack trace for a missing file).
    """
    for name in ("config", "credentials"):
        (aws_home / name).touch()
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(aws_home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws_home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "KEDRO_DISABLE_TELEMETRY": "true",
    }
