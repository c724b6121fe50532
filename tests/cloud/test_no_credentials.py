"""Without AWS credentials, or without a bucket name of one's own: one sentence, never a traceback."""

import pytest

from devkit.paths import PROJECT_ROOT
from devkit.project import kedro

CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def test_kedro_run_in_the_cloud_env_without_credentials_ends_in_one_sentence():
    result = kedro(PROJECT_ROOT, "run", "--env=cloud", timeout=300, unset=CREDENTIALS, FRUITS_BUCKET="my-bucket")

    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stdout and "NoCredentialsError" not in result.stdout, result.stdout
    assert result.stdout.strip().splitlines()[-1] == (
        "Error: No AWS credentials to read s3a://my-bucket/fruits/data/01_raw/fruits-360-mini/Test: run `aws "
        "configure` (or `aws sso login`), or set AWS_PROFILE; on EMR the nodes' instance profile provides them."
    )


@pytest.mark.parametrize("args", [("run", "--dry-run"), ("policy", "operator"), ("policy", "instance-profile")])
def test_commands_refuse_without_a_bucket_name_instead_of_a_placeholder(error, monkeypatch, args):
    monkeypatch.delenv("FRUITS_BUCKET")

    assert error(*args) == (
        "Error: No bucket name: export FRUITS_BUCKET=<your bucket> (or pass --bucket, or set bucket: in aws.yml)."
    )


def test_a_bucket_named_in_aws_yml_is_used(cli, spec, monkeypatch):
    monkeypatch.delenv("FRUITS_BUCKET")
    spec(lambda content: content.update(bucket="my-own-bucket"))

    assert "arn:aws:s3:::my-own-bucket" in cli("policy", "operator").output


def test_pricing_needs_no_bucket(cli, monkeypatch):
    monkeypatch.delenv("FRUITS_BUCKET")

    assert "total" in cli("cost", "--hours", "1").output
