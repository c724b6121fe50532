"""`fruits-cloud upload`: the real image tree (class folders with spaces), incremental."""

import hashlib
import shutil

import boto3
import pytest
from boto3.s3.transfer import TransferConfig

from tests.support.aws import BUCKET
from tests.support.paths import MINI_SET

DEST = "01_raw/fruits-360-mini/Test"
PREFIX = f"fruits/data/{DEST}/"


@pytest.fixture
def images(tmp_path):
    """A copy of the 80 test JPEGs, free to modify."""
    return shutil.copytree(MINI_SET, tmp_path / "Test")


def remote_keys(s3):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_upload_mirrors_the_tree_then_transfers_nothing(cli, s3, bucket, images):
    first = cli("upload", str(images), "--dest", DEST)

    expected = {PREFIX + path.relative_to(images).as_posix() for path in images.rglob("*.jpg")}
    assert len(expected) == 80
    assert remote_keys(s3) == expected
    assert f"{PREFIX}Apple Granny Smith/" in {key.rsplit("/", 1)[0] + "/" for key in expected}
    assert "80 uploaded, 0 unchanged" in first.output
    assert "0 uploaded, 80 unchanged" in cli("upload", str(images), "--dest", DEST).output


def test_changed_files_are_uploaded_again(cli, s3, bucket, images):
    cli("upload", str(images), "--dest", DEST)
    grown, flipped = sorted(images.rglob("*.jpg"))[:2]
    grown.write_bytes(grown.read_bytes() + b"\0")
    data = bytearray(flipped.read_bytes())
    data[-1] ^= 0xFF  # same size: only the MD5 tells
    flipped.write_bytes(bytes(data))

    result = cli("upload", str(images), "--dest", DEST)

    assert "2 uploaded, 78 unchanged" in result.output
    for path in (grown, flipped):
        body = s3.get_object(Bucket=BUCKET, Key=PREFIX + path.relative_to(images).as_posix())["Body"].read()
        assert body == path.read_bytes()


def test_object_whose_etag_is_not_its_md5_is_compared_by_metadata(cli, s3, bucket, images):
    """Multipart or SSE-KMS objects have an ETag that is not the MD5: the md5 metadata decides."""
    path = sorted(images.rglob("*.jpg"))[0]
    key = PREFIX + path.relative_to(images).as_posix()
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    boto3.client("s3").upload_file(
        str(path),
        BUCKET,
        key,
        ExtraArgs={"Metadata": {"md5": md5}},
        Config=TransferConfig(multipart_threshold=1024, multipart_chunksize=5 * 1024 * 1024),
    )
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"') != md5

    assert "79 uploaded, 1 unchanged" in cli("upload", str(images), "--dest", DEST).output


def test_upload_without_bucket_says_what_to_do(error, images):
    assert error("upload", str(images)) == (f"Error: Bucket {BUCKET} does not exist: run `fruits-cloud bucket` first.")
