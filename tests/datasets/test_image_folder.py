import pytest
from kedro.io.core import DatasetError

from fruits.datasets import ImageFolderDataset


def test_the_source_tree_is_read_only(spark, mini_tree):
    dataset = ImageFolderDataset(filepath=str(mini_tree))
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(dataset.load())
    assert len(list(mini_tree.rglob("*.jpg"))) == 80


def test_empty_images_are_listed_with_the_same_path_spelling(spark, mini_tree):
    (mini_tree / "Apple Granny Smith" / "empty 50%.jpg").write_bytes(b"")
    rows = ImageFolderDataset(filepath=str(mini_tree)).load().select("path", "length").collect()
    empty = [row.path for row in rows if row.length == 0]
    neighbour = next(row.path for row in rows if row.path.endswith("Apple Granny Smith/3_100.jpg"))
    assert len(rows) == 81
    assert empty == [neighbour.replace("3_100.jpg", "empty 50%.jpg")]


def test_missing_folder_is_a_clear_error(spark, tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        ImageFolderDataset(filepath=str(tmp_path / "nowhere")).load()
