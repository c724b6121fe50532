"""The shared Spark session pointed at moto's S3, for the datasets that list and read S3 on the executors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import s3fs

from tests.support.aws import ACCESS_KEY, AMBIENT_VARIABLES, REGION, SECRET_KEY, isolated_environment


@pytest.fixture
def s3_spark(spark: Any, moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty moto; the driver (s3fs), the Python workers (their environment) and the JVM (S3A) reach it alone,
    with fake credentials. Yields a boto3 S3 client."""
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    for name in AMBIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "aws-home").mkdir()
    environment = isolated_environment(moto_url, tmp_path / "aws-home")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # Python workers get the context's environment (a new one starts workers of their own).
    monkeypatch.setattr(spark.sparkContext, "environment", {**spark.sparkContext.environment, **environment})
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in {"fs.s3a.endpoint": moto_url, "fs.s3a.endpoint.region": REGION,
                       "fs.s3a.path.style.access": "true", "fs.s3a.connection.ssl.enabled": "false",
                       "fs.s3a.access.key": ACCESS_KEY, "fs.s3a.secret.key": SECRET_KEY,
                       "fs.s3a.impl.disable.cache": "true"}.items():
        hadoop.set(key, value)
    s3fs.S3FileSystem.clear_instance_cache()
    yield boto3.client("s3", region_name=REGION)
    s3fs.S3FileSystem.clear_instance_cache()
