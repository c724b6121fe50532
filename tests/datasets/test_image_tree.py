"""ImageTreeDataset: one listing of any file names, with change keys, as a Spark job; files read concurrently."""

from __future__ import annotations

import base64
import io
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from kedro.io.core import DatasetError
from PIL import Image

from devkit.paths import MINI_SET
from fruits.datasets.image_tree import ImageTreeDataset
from fruits.images import PLACEHOLDER, THUMBNAIL
from fruits.listing import change_key
from tests.support.images import decompression_bomb

ODD_NAMES = ["12:30:00.jpg", "_x.jpg", "a%20b #1?.jpg", "été 🍓.jpg", ".hidden.jpg", "x" * 200 + ".jpg",
             "apple[1].jpg", "b*.jpg", "c::d.jpg"]


@pytest.fixture
def odd_tree(tmp_path: Path) -> Path:
    jpeg = (MINI_SET / "Kiwi" / "3_100.jpg").read_bytes()
    (tmp_path / "Kiwi" / "deeper").mkdir(parents=True)
    for name in ODD_NAMES:
        (tmp_path / "Kiwi" / name).write_bytes(jpeg)
    (tmp_path / "Kiwi" / "deeper" / "x.jpg").write_bytes(jpeg)
    (tmp_path / "at root.jpg").write_bytes(jpeg)
    return tmp_path


def files_of(root: Path) -> pd.DataFrame:
    return ImageTreeDataset(filepath=str(root)).load().listing().toPandas()


def test_every_file_is_listed_with_its_uri_and_relative_path(spark, odd_tree: Path) -> None:
    for index in range(40):  # more class folders than listing tasks: each task lists several
        (odd_tree / f"class {index}").mkdir()
        (odd_tree / f"class {index}" / "1.jpg").write_bytes(b"")
    files = files_of(odd_tree)
    files = files[~files["relative_path"].str.startswith("class ")].reset_index(drop=True)
    assert sorted(files["relative_path"]) == sorted(
        ["at root.jpg", "Kiwi/deeper/x.jpg", *(f"Kiwi/{name}" for name in ODD_NAMES)]
    )
    assert set(files["path"]) == {f"file://{odd_tree}/{relative}" for relative in files["relative_path"]}
    assert (files["size"] == 4965).all()
    assert len(files) == len(ODD_NAMES) + 2


def test_change_key_follows_modification_and_size(spark, odd_tree: Path) -> None:
    before = files_of(odd_tree).set_index("relative_path")["change_key"]
    os.utime(odd_tree / "Kiwi" / "_x.jpg", (1_000_000_000, 1_000_000_000))
    after = files_of(odd_tree).set_index("relative_path")["change_key"]
    assert (before != after).tolist().count(True) == 1 and before["Kiwi/_x.jpg"] != after["Kiwi/_x.jpg"]
    assert change_key({"ETag": '"abc"', "size": 3}) == "etag:abc"


def test_files_are_read_by_uri_and_missing_ones_are_errors(odd_tree: Path) -> None:
    tree = ImageTreeDataset(filepath=str(odd_tree)).load()
    uris = [f"file://{path}" for path in sorted(map(str, odd_tree.rglob("*.jpg")))]
    found = tree.read([*uris, f"file://{odd_tree}/Kiwi/gone.jpg"])
    assert all(isinstance(found[uri], bytes) and len(found[uri]) == 4965 for uri in uris)
    assert isinstance(found[f"file://{odd_tree}/Kiwi/gone.jpg"], FileNotFoundError)


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist: give the folder of class folders"):
        ImageTreeDataset(filepath=str(tmp_path / "nowhere")).load().listing()


def test_the_tree_is_read_only(odd_tree: Path) -> None:
    dataset = ImageTreeDataset(filepath=str(odd_tree))
    with pytest.raises(DatasetError, match="only reads it"):
        dataset.save(dataset.load())


def test_the_preview_shows_a_placeholder_for_a_class_whose_files_cannot_be_shown(tmp_path: Path) -> None:
    for folder in ("Bomb", "Kiwi"):
        (tmp_path / folder).mkdir()
    (tmp_path / "Bomb" / "bomb.png").write_bytes(decompression_bomb())
    (tmp_path / "Kiwi" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # skipped: the first file that can be shown
    shutil.copy(MINI_SET / "Kiwi" / "3_100.jpg", tmp_path / "Kiwi" / "3_100.jpg")
    grid = Image.open(io.BytesIO(base64.b64decode(ImageTreeDataset(filepath=str(tmp_path)).preview())))
    assert grid.size == (2 * THUMBNAIL, THUMBNAIL)
    bomb, kiwi = (grid.crop((x, 0, x + THUMBNAIL, THUMBNAIL)) for x in (0, THUMBNAIL))
    assert bomb.getcolors() == [(THUMBNAIL * THUMBNAIL, PLACEHOLDER)]
    assert len(kiwi.getcolors(maxcolors=100_000)) > 100  # a photo
