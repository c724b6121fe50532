import pytest
from kedro.io.core import DatasetError

from fruits.datasets import ImageFolderDataset
from fruits.datasets.image_folder import SUCCESS_MARKER
from fruits.pipelines.image_loading.nodes import with_labels


def test_save_writes_original_bytes_per_class_then_marker(spark, mini_tree, tmp_path):
    (mini_tree / "Kiwi" / "x%41 y.jpg").write_bytes((mini_tree / "Kiwi" / "3_100.jpg").read_bytes())
    target = tmp_path / "sample"
    (target / "stale").mkdir(parents=True)
    (target / "stale" / "old.jpg").write_bytes(b"from a previous run")
    images = with_labels(ImageFolderDataset(filepath=str(mini_tree)).load())
    ImageFolderDataset(filepath=str(target), require_success_marker=True).save(images)
    written = sorted(p.relative_to(target) for p in target.rglob("*.jpg"))
    assert written == sorted(p.relative_to(mini_tree) for p in mini_tree.rglob("*.jpg"))
    assert (target / "Apple Granny Smith" / "3_100.jpg").read_bytes() == (
        mini_tree / "Apple Granny Smith" / "3_100.jpg"
    ).read_bytes()
    assert (target / SUCCESS_MARKER).exists()
    assert (target / "Kiwi" / "x%41 y.jpg").exists()
    assert ImageFolderDataset(filepath=str(target), require_success_marker=True).load().count() == 81


def test_empty_images_are_listed_with_the_same_path_spelling(spark, mini_tree):
    (mini_tree / "Apple Granny Smith" / "empty 50%.jpg").write_bytes(b"")
    rows = ImageFolderDataset(filepath=str(mini_tree)).load().select("path", "length").collect()
    empty = [row.path for row in rows if row.length == 0]
    neighbour = next(row.path for row in rows if row.path.endswith("Apple Granny Smith/3_100.jpg"))
    assert len(rows) == 81
    assert empty == [neighbour.replace("3_100.jpg", "empty 50%.jpg")]


def test_folder_without_marker_is_refused_as_incomplete(spark, mini_tree):
    with pytest.raises(DatasetError, match="is incomplete .*failed"):
        ImageFolderDataset(filepath=str(mini_tree), require_success_marker=True).load()


def test_missing_folder_is_a_clear_error(spark, tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        ImageFolderDataset(filepath=str(tmp_path / "nowhere")).load()
