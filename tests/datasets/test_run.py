"""RunDataset: written under the run's folder, read as this run wrote it or as published."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.io.core import DatasetError

from fruits.datasets.run import UNCHANGED, RunDataset
from tests.support.runs import bound, run_scope

PARQUET = {"type": "pandas.ParquetDataset"}


def sample_dataset(root: Path, published: bool = False, run=None) -> RunDataset:
    """The dataset, bound to ``run`` when given (as the run hook binds it), else reading the published state."""
    dataset = RunDataset(path=str(root), run_path="02_intermediate/image_sample.parquet", dataset=PARQUET,
                         published=published)
    return bound(dataset, run) if run is not None else dataset


def test_saved_in_the_run_folder_and_read_back_during_the_run(tmp_path: Path) -> None:
    frame = pd.DataFrame({"path": ["a", "b"]})
    with run_scope(str(tmp_path)) as run:
        sample_dataset(tmp_path, run=run).save(frame)
        pd.testing.assert_frame_equal(sample_dataset(tmp_path, run=run).load(), frame)
        assert (tmp_path / "runs" / run.id / "02_intermediate" / "image_sample.parquet").is_file()
        assert sample_dataset(tmp_path, published=True, run=run).load() is None  # nothing published yet
        run.publish()
    pd.testing.assert_frame_equal(sample_dataset(tmp_path).load(), frame)


def test_the_published_variant_reads_the_previous_run(tmp_path: Path) -> None:
    with run_scope(str(tmp_path)) as first:
        sample_dataset(tmp_path, run=first).save(pd.DataFrame({"path": ["old"]}))
        first.publish()
    with run_scope(str(tmp_path)) as second:
        sample_dataset(tmp_path, run=second).save(pd.DataFrame({"path": ["new"]}))
        assert list(sample_dataset(tmp_path, run=second).load()["path"]) == ["new"]
        assert list(sample_dataset(tmp_path, published=True, run=second).load()["path"]) == ["old"]
        with pytest.raises(DatasetError, match="read-only"):
            sample_dataset(tmp_path, published=True, run=second).save(pd.DataFrame({"path": ["x"]}))


def test_unchanged_keeps_the_published_version_without_writing(tmp_path: Path) -> None:
    with run_scope(str(tmp_path)) as first:
        sample_dataset(tmp_path, run=first).save(pd.DataFrame({"path": ["kept"]}))
        first.publish()
    with run_scope(str(tmp_path)) as second:
        sample_dataset(tmp_path, run=second).save(UNCHANGED)
        assert not (tmp_path / "runs" / second.id / "02_intermediate").exists()
        second.publish()
    assert list(sample_dataset(tmp_path).load()["path"]) == ["kept"]


def test_unchanged_without_any_version_is_an_error(tmp_path: Path) -> None:
    with run_scope(str(tmp_path)) as run, pytest.raises(DatasetError, match="no version of it was ever written"):
        sample_dataset(tmp_path, run=run).save(UNCHANGED)


def test_reading_before_any_run_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="Nothing has been published .* run `kedro run` first"):
        sample_dataset(tmp_path).load()


def test_saving_outside_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="written by `kedro run` only"):
        sample_dataset(tmp_path).save(pd.DataFrame({"path": ["a"]}))
