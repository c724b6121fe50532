"""`fruits-cloud upload`: the real image tree (class folders with spaces), incremental."""

import hashlib
import json
import shlex
import shutil
import subprocess
import sys

import boto3
import pytest
from boto3.s3.transfer import TransferConfig

from devkit.paths import MINI_SET
from tests.support.aws import BUCKET

DEST = "01_raw/fruits-360-mini/Test"
PREFIX = f"fruits/data/{DEST}/"


@pytest.fixture
def images(tmp_path):
    """A copy of the 80 test JPEGs, free to modify."""
    return shutil.copytree(MINI_SET, tmp_path / "Test")


def remote_keys(s3, prefix=PREFIX):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_upload_mirrors_the_tree_then_transfers_nothing(cli, s3, bucket, images):
    first = cli("upload", "--images", str(images), "--dest", DEST)

    expected = {PREFIX + path.relative_to(images).as_posix() for path in images.rglob("*.jpg")}
    assert len(expected) == 80
    assert remote_keys(s3) == expected
    assert f"{PREFIX}Apple Granny Smith/" in {key.rsplit("/", 1)[0] + "/" for key in expected}
    assert "80 uploaded, 0 unchanged" in first.output
    assert "0 uploaded, 80 unchanged" in cli("upload", "--images", str(images), "--dest", DEST).output


def test_changed_files_are_uploaded_again(cli, s3, bucket, images):
    cli("upload", "--images", str(images), "--dest", DEST)
    grown, flipped = sorted(images.rglob("*.jpg"))[:2]
    grown.write_bytes(grown.read_bytes() + b"\0")
    data = bytearray(flipped.read_bytes())
    data[-1] ^= 0xFF  # same size: only the MD5 tells
    flipped.write_bytes(bytes(data))

    result = cli("upload", "--images", str(images), "--dest", DEST)

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

    assert "79 uploaded, 1 unchanged" in cli("upload", "--images", str(images), "--dest", DEST).output


def test_upload_without_bucket_says_what_to_do(error, images):
    assert error("upload", "--images", str(images)) == (
        f"Error: Bucket {BUCKET} does not exist: run `fruits-cloud bucket` first."
    )


def test_your_photos_go_to_a_folder_of_their_own_and_the_run_gets_it(cli, s3, bucket, tmp_path, cluster_id,
                                                                      recorded_requests):
    """From "my photos" to a step that processes them: upload names the folder it wrote and the `run` arguments
    that read it; the step passes them to `kedro run`, which parses them into the raw_images parameter."""
    photos = tmp_path / "my photos"
    for label in ("Banana", "Kiwi"):
        shutil.copytree(MINI_SET / label, photos / label)

    output = cli("upload", "--images", str(photos)).output

    root = "fruits/data/01_raw/my photos/"
    assert {key.removeprefix(root) for key in remote_keys(s3, root)} == {
        path.relative_to(photos).as_posix() for path in photos.rglob("*.jpg")
    }
    hint = output.strip().splitlines()[-1].removeprefix("Run on them: ")
    args = shlex.split(hint)
    assert args[:2] == ["fruits-cloud", "run"]
    cli(*args[1:])
    [(_, sent)] = recorded_requests("ElasticMapReduce.AddJobFlowSteps")
    kedro_args = sent["Steps"][0]["HadoopJarStep"]["Args"][-2:]
    assert kedro_args == ["--params", f"raw_images=s3a://{BUCKET}/{root.rstrip('/')}"]
    parse = (
        "import json, sys; from kedro.framework.cli.project import run; "
        "print(json.dumps(run.make_context('run', sys.argv[1:]).params['params']))"
    )
    parsed = subprocess.run([sys.executable, "-c", parse, *kedro_args], check=True, capture_output=True, text=True,
                            timeout=120).stdout
    assert json.loads(parsed.strip().splitlines()[-1]) == {"raw_images": f"s3a://{BUCKET}/{root.rstrip('/')}"}


def test_upload_without_images_says_what_to_pass(error, bucket):
    assert error("upload") == (
        "Error: Nothing to upload: pass --images DIR (a folder of class folders) and/or --weights imagenet."
    )
