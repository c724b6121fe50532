"""Runs write into their own folders; one pointer names the published state; old runs are pruned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
import s3fs

from fruits.publishing import (
    POINTER,
    DataRoot,
    LegacyLayoutError,
    Publication,
    prune,
    resumable_run,
    start_run,
)
from tests.support.aws import AMBIENT_VARIABLES, BUCKET, PREFIX, REGION, isolated_environment, moto_server


def write_dataset(run, path: str, text: str) -> str:
    """What a dataset does: write under the run's folder, record it in the ledger."""
    location = run.location(path)
    run.root.write_text_atomically(location, text)
    run.record_dataset(path, location)
    return location


def test_nothing_is_published_before_the_first_run(tmp_path: Path) -> None:
    assert DataRoot(str(tmp_path)).published() == Publication()


def test_a_run_is_invisible_until_published(tmp_path: Path) -> None:
    root = DataRoot(str(tmp_path))
    run = start_run(root, resume=False)
    location = write_dataset(run, "08_reporting/report.md", "new")
    assert root.published().datasets == {}
    assert not (tmp_path / POINTER).exists()
    publication = run.publish()
    assert json.loads((tmp_path / POINTER).read_text())["run_id"] == run.id == publication.run_id
    assert root.published().datasets == {"08_reporting/report.md": location}
    assert (tmp_path / location).read_text() == "new"


def test_a_new_run_keeps_what_it_did_not_rewrite(tmp_path: Path) -> None:
    root = DataRoot(str(tmp_path))
    first = start_run(root, resume=False)
    kept = write_dataset(first, "06_models/pca_model", "model")
    write_dataset(first, "08_reporting/report.md", "old")
    first.publish()
    second = start_run(root, resume=False)
    replaced = write_dataset(second, "08_reporting/report.md", "new")
    second.record_table("results", 7)
    second.publish()
    published = root.published()
    assert published.datasets == {"06_models/pca_model": kept, "08_reporting/report.md": replaced}
    assert published.tables == {"results": 7}
    assert published.base_run_id == first.id


def test_run_ids_sort_by_start_time(tmp_path: Path) -> None:
    root = DataRoot(str(tmp_path))
    ids = [start_run(root, resume=False).id for _ in range(3)]
    assert root.run_ids() == sorted(ids)
    assert all(len(run_id.split("-")[0]) == len("20261129T171502.123456Z") for run_id in ids)


def test_the_pointer_is_replaced_atomically_without_leftovers(tmp_path: Path) -> None:
    root = DataRoot(str(tmp_path))
    root.write_text_atomically(POINTER, "{}")
    root.write_text_atomically(POINTER, '{"run_id": "b"}')
    assert sorted(path.name for path in tmp_path.iterdir()) == [POINTER]


def test_an_interrupted_run_is_resumed_only_when_asked_and_still_based_on_the_published_state(tmp_path: Path):
    root = DataRoot(str(tmp_path))
    interrupted = start_run(root, resume=False)
    write_dataset(interrupted, "02_intermediate/image_sample.parquet", "sample")
    assert resumable_run(root).run_id == interrupted.id
    resumed = start_run(root, resume=True)
    assert resumed.id == interrupted.id and resumed.resumed
    assert resumed.dataset_location("02_intermediate/image_sample.parquet") is not None
    assert start_run(root, resume=False).id != interrupted.id
    other = start_run(root, resume=False)
    other.publish()
    assert resumable_run(root) is None  # based on a state that is no longer the published one


def test_publishing_over_a_run_published_meanwhile_is_refused(tmp_path: Path) -> None:
    root = DataRoot(str(tmp_path))
    slow, fast = start_run(root, resume=False), start_run(root, resume=False)
    fast.publish()
    with pytest.raises(RuntimeError, match="was published while run .* ran"):
        slow.publish()
    assert root.published().run_id == fast.id


def test_prune_keeps_the_last_runs_and_the_files_still_in_use(tmp_path: Path) -> None:
    root = DataRoot(str(tmp_path))
    runs = []
    for number in range(4):
        run = start_run(root, resume=False)
        write_dataset(run, "08_reporting/report.md", f"report {number}")
        write_dataset(run, "02_intermediate/image_sample.parquet", f"sample {number}")
        if number == 0:  # written once, reused by the later runs: its run folder keeps it
            write_dataset(run, "06_models/pca_model/part", "model")
        run.publish()
        runs.append(run)
    deleted = prune(root, keep_runs=2)
    assert root.run_ids() == sorted([runs[0].id, runs[2].id, runs[3].id])
    assert (tmp_path / "runs" / runs[0].id / "06_models/pca_model/part").read_text() == "model"
    assert not (tmp_path / "runs" / runs[0].id / "02_intermediate").exists()
    assert f"runs/{runs[1].id}" in deleted
    assert root.published().run_id == runs[3].id


def test_a_data_root_of_the_parquet_file_layout_says_how_to_migrate(tmp_path: Path) -> None:
    (tmp_path / POINTER).write_text(json.dumps({"run_id": "r", "tables": {"results": ["runs/r/part-0.parquet"]},
                                                "added": {}}))
    with pytest.raises(LegacyLayoutError, match="convert it once with `fruits migrate-tables`"):
        DataRoot(str(tmp_path)).published()


def test_a_stale_pointer_version_is_refused_locally(tmp_path: Path) -> None:
    """The compare-and-swap itself: a run that read the pointer before another published cannot overwrite it."""
    root = DataRoot(str(tmp_path))
    root.write_pointer(POINTER, b'{"run_id": "a"}', expected=None)
    _, version_a = root.read_versioned(POINTER)
    root.write_pointer(POINTER, b'{"run_id": "b"}', expected=version_a)
    with pytest.raises(RuntimeError, match="^Another run published .*current.json while this one ran: run the"):
        root.write_pointer(POINTER, b'{"run_id": "c"}', expected=version_a)
    with pytest.raises(RuntimeError, match="^Another run published"):
        root.write_pointer(POINTER, b'{"run_id": "d"}', expected=None)  # a first run that found no pointer
    assert root.published().run_id == "b"
    assert sorted(path.name for path in tmp_path.iterdir()) == [POINTER]  # no lock or temporary file left


@pytest.fixture
def s3_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataRoot]:
    """A data root in a moto S3 bucket (moto 5.2.5 evaluates If-Match and If-None-Match on PutObject)."""
    with moto_server() as endpoint:
        requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()  # moto's state is per process
        for name in AMBIENT_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        (tmp_path / "aws-home").mkdir()
        for name, value in isolated_environment(endpoint, tmp_path / "aws-home").items():
            monkeypatch.setenv(name, value)
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        s3fs.S3FileSystem.clear_instance_cache()
        yield DataRoot(f"s3://{BUCKET}/{PREFIX}/data")
        s3fs.S3FileSystem.clear_instance_cache()


def test_two_runs_publishing_at_once_on_s3_only_one_wins(s3_root: DataRoot) -> None:
    first, second = start_run(s3_root, resume=False), start_run(s3_root, resume=False)
    assert first.base_version is None  # no pointer yet: the first publication uses If-None-Match: *
    first.publish()
    etag = s3_root.read_versioned(POINTER)[1]
    # The other run read no pointer too: its conditional PUT is refused by S3 itself, not by a prior read.
    with pytest.raises(RuntimeError, match="^Another run published s3://.*/current.json while this one ran"):
        s3_root.write_pointer(POINTER, b"{}", second.base_version)
    third = start_run(s3_root, resume=False)
    assert third.base_version == etag  # If-Match: the ETag read when the run started
    s3_root.write_pointer(POINTER, b'{"run_id": "elsewhere"}', etag)  # published meanwhile
    with pytest.raises(RuntimeError, match="^Another run published"):
        s3_root.write_pointer(POINTER, b"{}", third.base_version)
    assert s3_root.published().run_id == "elsewhere"


def test_a_refused_read_on_s3_names_the_missing_permission(s3_root: DataRoot) -> None:
    """Without s3:ListBucket, S3 answers a missing key with 403: that is not "no pointer yet"."""
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    boto3.client("s3", region_name=REGION).put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]})
    )
    with pytest.raises(PermissionError, match=r"^Access denied reading s3://.*/current.json: .* need s3:ListBucket "):
        s3_root.published()
