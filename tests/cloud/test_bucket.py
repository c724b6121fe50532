"""`fruits-cloud bucket`: private, encrypted, HTTPS only, in the deployment region, idempotent."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.aws import BUCKET, REGION


def test_bucket_is_created_in_region_private_and_encrypted(cli, s3):
    result = cli("bucket")

    assert f"Bucket {BUCKET} created in {REGION}" in result.output
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == REGION
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_second_call_says_the_bucket_exists(cli):
    cli("bucket")

    assert f"Bucket {BUCKET} already exists in {REGION}" in cli("bucket").output


def test_kms_encryption_comes_from_the_spec(cli, s3, spec):
    spec(lambda content: content["encryption"].update(algorithm="aws:kms", kms_key_id="alias/fruits"))

    cli("bucket")

    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/fruits"}
    assert rule["BucketKeyEnabled"] is True


def test_bucket_in_another_region_is_refused(cli, error):
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )

    message = error("bucket")

    assert f"Bucket {BUCKET} is in eu-west-1, not {REGION}" in message


def test_missing_credentials_is_one_sentence(error, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    assert error("bucket") == (
        "Error: No AWS credentials found: run `aws configure` (or `aws sso login`), or set AWS_PROFILE."
    )


def test_missing_config_file_is_one_sentence(error, monkeypatch, tmp_path):
    monkeypatch.setenv("FRUITS_CLOUD_CONFIG", str(tmp_path / "nowhere.yml"))

    assert "nowhere.yml not found: run from the project root or pass --config." in error("bucket")


def tls_statement(s3):
    [statement] = [
        statement
        for statement in json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
        if statement.get("Sid") == "DenyInsecureTransport"
    ]
    return statement


def test_bucket_policy_denies_every_non_tls_request(cli, s3):
    cli("bucket")

    assert tls_statement(s3) == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    # These requests are plain HTTP: S3 refuses them now (moto too, though it ignores the condition).
    with pytest.raises(ClientError, match="403"):
        s3.put_object(Bucket=BUCKET, Key="fruits/data/x", Body=b"x")


def test_policy_is_reapplied_once_and_other_statements_are_kept(cli, s3):
    cli("bucket")
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    theirs = {"Sid": "TheirAuditor", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
              "Action": "s3:GetBucketLocation", "Resource": f"arn:aws:s3:::{BUCKET}"}  # fmt: skip
    policy["Statement"].insert(0, theirs)
    policy["Statement"][1]["Condition"] = {}  # drifted: the TLS condition removed by hand
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))

    cli("bucket")

    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert [statement["Sid"] for statement in statements] == ["TheirAuditor", "DenyInsecureTransport"]
    assert statements[0] == theirs and tls_statement(s3)["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_aborts_incomplete_uploads_and_expires_logs_and_keeps_other_rules(cli, s3, spec):
    spec(lambda content: content["lifecycle"].update(abort_incomplete_uploads_days=2, expire_logs_days=14))
    cli("bucket")
    theirs = {"ID": "their-archive", "Filter": {"Prefix": "archive/"}, "Status": "Enabled", "Expiration": {"Days": 400}}
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [theirs, *rules]})

    cli("bucket")  # re-applied: ours replaced by ID, theirs kept

    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [rule["ID"] for rule in rules] == ["their-archive", "fruits-abort-incomplete-uploads", "fruits-expire-logs"]
    by_id = {rule["ID"]: rule for rule in rules}
    assert by_id["fruits-abort-incomplete-uploads"]["Filter"] == {"Prefix": "fruits/"}
    assert by_id["fruits-abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 2}
    assert by_id["fruits-expire-logs"]["Filter"] == {"Prefix": "fruits/logs/"}
    assert by_id["fruits-expire-logs"]["Expiration"] == {"Days": 14}
    assert all(rule["Status"] == "Enabled" for rule in rules)
