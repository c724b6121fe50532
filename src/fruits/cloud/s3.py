"""The project bucket: created private and encrypted in the deployment region, filled incrementally."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import mimetypes
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fruits.cloud.aws import CloudError, error_code
from fruits.cloud.config import Settings

BLOCK_ALL_PUBLIC_ACCESS = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def bucket_region(s3: Any, bucket: str) -> str | None:
    """Region of the bucket, or None when no bucket has that name.

    HeadBucket answers for buckets in any region (boto3 follows the redirect), which is what lets us refuse
    a bucket that would put the data outside the cluster's region.
    """
    try:
        response = s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket"):
            return None
        if error_code(exc) in ("403", "AccessDenied"):
            raise CloudError(
                f"Bucket {bucket} exists but is not yours (or you may not list it): "
                "choose another name with --bucket or FRUITS_BUCKET."
            ) from exc
        raise
    return response.get("BucketRegion") or response["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"]


def _refuse_other_region(settings: Settings, region: str) -> None:
    if region != settings.region:
        raise CloudError(
            f"Bucket {settings.bucket} is in {region}, not {settings.region}: bucket, cluster and logs must "
            "share one region (GDPR, transfer cost), so choose another bucket name or pass a matching --region."
        )


def require_bucket(s3: Any, settings: Settings) -> None:
    """Fail early, with the fix, when the bucket is missing or in another region."""
    region = bucket_region(s3, settings.bucket)
    if region is None:
        raise CloudError(f"Bucket {settings.bucket} does not exist: run `fruits-cloud bucket` first.")
    _refuse_other_region(settings, region)


def ensure_bucket(s3: Any, settings: Settings) -> bool:
    """Create the bucket if needed, then (re)apply the public-access block, default encryption, TLS-only policy and
    lifecycle rules.

    Re-applying on every call makes the command idempotent and repairs a bucket whose settings drifted.
    Returns whether the bucket was created.
    """
    region = bucket_region(s3, settings.bucket)
    if region is None:
        location = (
            {}
            if settings.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": settings.region}}
        )
        s3.create_bucket(Bucket=settings.bucket, **location)
    else:
        _refuse_other_region(settings, region)
    s3.put_public_access_block(Bucket=settings.bucket, PublicAccessBlockConfiguration=BLOCK_ALL_PUBLIC_ACCESS)
    s3.put_bucket_encryption(Bucket=settings.bucket, ServerSideEncryptionConfiguration=encryption_rules(settings))
    s3.put_bucket_policy(
        Bucket=settings.bucket, Policy=json.dumps(with_tls_only(bucket_policy(s3, settings.bucket), settings.bucket))
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=settings.bucket,
        LifecycleConfiguration={"Rules": with_project_rules(lifecycle_rules(s3, settings.bucket), settings)},
    )
    return region is None


def project_lifecycle_rules(settings: Settings) -> list[dict[str, Any]]:
    """What would otherwise be billed forever: multipart uploads that killed executors never completed (invisible in
    listings, charged as storage until aborted), and the cluster logs under ``PREFIX/logs/``."""
    spec = settings.spec["lifecycle"]
    return [
        {
            "ID": f"{settings.prefix}-abort-incomplete-uploads",
            "Filter": {"Prefix": f"{settings.prefix}/"},
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": int(spec["abort_incomplete_uploads_days"])},
        },
        {
            "ID": f"{settings.prefix}-expire-logs",
            "Filter": {"Prefix": settings.key("logs") + "/"},
            "Status": "Enabled",
            "Expiration": {"Days": int(spec["expire_logs_days"])},
        },
    ]


def lifecycle_rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules, or none."""
    try:
        return s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchLifecycleConfiguration":
            return []
        raise


def with_project_rules(rules: list[dict[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    """The project's rules in place (replaced by ID, not duplicated); rules of other prefixes are kept."""
    ours = project_lifecycle_rules(settings)
    ids = {rule["ID"] for rule in ours}
    return [rule for rule in rules if rule.get("ID") not in ids] + ours


def has_project_rules(rules: list[dict[str, Any]], settings: Settings) -> bool:
    """Whether the bucket holds the project's lifecycle rules as `bucket` applies them."""
    return all(rule in rules for rule in project_lifecycle_rules(settings))


TLS_ONLY_SID = "DenyInsecureTransport"


def tls_only_statement(bucket: str) -> dict[str, Any]:
    """Refuse every request to the bucket that does not use HTTPS, whoever sends it.

    AWS's recommendation for data in transit: https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html
    (``aws:SecureTransport`` is false for plain HTTP). A Deny-only statement is not "public", so it is accepted
    under BlockPublicPolicy.
    """
    return {
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_policy(s3: Any, bucket: str) -> dict[str, Any]:
    """The bucket's policy document, or an empty one when it has none."""
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucketPolicy":
            return {"Version": "2012-10-17", "Statement": []}
        raise


def with_tls_only(policy: dict[str, Any], bucket: str) -> dict[str, Any]:
    """The policy with our TLS-only statement in place (replaced, not duplicated); other statements are kept."""
    others = [statement for statement in policy.get("Statement", []) if statement.get("Sid") != TLS_ONLY_SID]
    return {**policy, "Statement": [*others, tls_only_statement(bucket)]}


def has_tls_only(policy: dict[str, Any], bucket: str) -> bool:
    """Whether the policy holds the TLS-only statement as `bucket` applies it."""
    return tls_only_statement(bucket) in policy.get("Statement", [])


def encryption_rules(settings: Settings) -> dict[str, Any]:
    """Default encryption from the spec: SSE-S3 (AES256) or SSE-KMS with an S3 bucket key (fewer KMS calls)."""
    encryption = settings.spec["encryption"]
    default: dict[str, str] = {"SSEAlgorithm": encryption["algorithm"]}
    if default["SSEAlgorithm"] == "aws:kms" and encryption.get("kms_key_id"):
        default["KMSMasterKeyID"] = encryption["kms_key_id"]
    return {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": default,
                "BucketKeyEnabled": default["SSEAlgorithm"] == "aws:kms",
            }
        ]
    }


@dataclass(frozen=True)
class SyncResult:
    uploaded: int
    skipped: int


def local_files(root: Path, key_prefix: str) -> list[tuple[Path, str]]:
    """Every non-hidden file under ``root`` with its key: the relative path, folder names (spaces too) kept."""
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            files.append((path, f"{key_prefix}/{relative.as_posix()}"))
    return files


def remote_objects(s3: Any, bucket: str, prefix: str) -> dict[str, tuple[int, str]]:
    """Size and ETag of every object under ``prefix``: one listing call per 1,000 keys instead of a HEAD each."""
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"]] = (item["Size"], item["ETag"].strip('"'))
    return objects


def _upload_if_changed(s3: Any, bucket: str, path: Path, key: str, remote: dict[str, tuple[int, str]]) -> bool:
    """Upload unless the object has the same size and MD5; returns whether it uploaded.

    The ETag of a single-part SSE-S3 upload is the MD5; under SSE-KMS it is not, so the MD5 is also kept
    in the object's metadata and checked when the ETag differs.
    """
    body = path.read_bytes()
    digest = hashlib.md5(body, usedforsecurity=False)
    if key in remote and remote[key][0] == len(body):
        if remote[key][1] == digest.hexdigest():
            return False
        if s3.head_object(Bucket=bucket, Key=key)["Metadata"].get("md5") == digest.hexdigest():
            return False
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentMD5=base64.b64encode(digest.digest()).decode(),  # S3 rejects a corrupted transfer
        ContentType=mimetypes.guess_type(key)[0] or "application/octet-stream",
        Metadata={"md5": digest.hexdigest()},
    )
    return True


def sync(s3: Any, bucket: str, files: Sequence[tuple[Path, str]], workers: int = 16) -> SyncResult:
    """Upload new or changed files in parallel (a few thousand small images), with a progress bar on stderr."""
    if not files:
        return SyncResult(uploaded=0, skipped=0)
    # A character-wise common prefix is exactly what S3 listing takes (keys are strings, not paths).
    remote = remote_objects(s3, bucket, os.path.commonprefix([key for _, key in files]))
    uploaded = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress, ThreadPoolExecutor(workers) as pool:
        task = progress.add_task(f"s3://{bucket}", total=len(files))
        futures = [pool.submit(_upload_if_changed, s3, bucket, path, key, remote) for path, key in files]
        for future in as_completed(futures):
            uploaded += future.result()
            progress.advance(task)
    return SyncResult(uploaded=uploaded, skipped=len(files) - uploaded)


def newest_key(s3: Any, bucket: str, prefix: str, suffix: str) -> str | None:
    """The most recently written key directly under ``prefix`` ending in ``suffix`` (the last packaged wheel, not
    one of a subfolder such as the wheelhouse)."""
    candidates = [
        item
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
        if item["Key"].endswith(suffix) and "/" not in item["Key"].removeprefix(prefix)
    ]
    return max(candidates, key=lambda item: item["LastModified"])["Key"] if candidates else None


def read_gzip_text(s3: Any, bucket: str, key: str) -> str | None:
    """Text of a gzip object (EMR step logs), or None if it is not there yet."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if error_code(exc) == "NoSuchKey":
            return None
        raise
    return gzip.decompress(body).decode("utf-8", errors="replace")
