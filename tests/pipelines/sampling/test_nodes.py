import pytest

from fruits.datasets import ImageFolderDataset
from fruits.pipelines.sampling.nodes import allocate_quotas, class_quotas, stratified_sample


def test_total_is_spread_equally():
    assert allocate_quotas({"a": 10, "b": 10, "c": 10}, 9) == {"a": 3, "b": 3, "c": 3}


def test_short_class_hands_its_unused_quota_to_the_others():
    quotas = allocate_quotas({"short": 2, "b": 10, "c": 10}, 12)
    assert quotas == {"short": 2, "b": 5, "c": 5}
    assert sum(quotas.values()) == 12


def test_leftover_units_go_to_classes_with_most_room_then_by_name():
    assert allocate_quotas({"a": 5, "b": 9, "c": 9}, 10) == {"a": 3, "b": 4, "c": 3}


def test_total_larger_than_the_data_takes_everything():
    assert allocate_quotas({"a": 1, "b": 4}, 100) == {"a": 1, "b": 4}


def test_per_class_and_all_strategies():
    sizes = {"a": 3, "b": 8}
    assert class_quotas(sizes, {"strategy": "per_class", "size": 5}) == {"a": 3, "b": 5}
    assert class_quotas(sizes, {"strategy": "all"}) == sizes


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"strategy": "total", "size": None}, "sampling.size must be a whole number"),
        ({"strategy": "per_class", "size": -1}, "sampling.size must be a whole number"),
        ({"strategy": "random", "size": 3}, "Unknown sampling.strategy 'random'"),
    ],
)
def test_bad_settings_are_explained(settings, message):
    with pytest.raises(ValueError, match=message):
        class_quotas({"a": 3}, settings)


def sample_paths(spark, tree, **settings):
    raw = ImageFolderDataset(filepath=str(tree)).load()
    rows = stratified_sample(raw, {"seed": 42, **settings}).select("path", "label").collect()
    return sorted((row.label, row.path.rsplit("/", 1)[-1]) for row in rows)


def test_total_sample_on_real_tree_counts_and_is_deterministic(spark, mini_tree):
    for extra in ("x1.jpg", "x2.jpg"):
        (mini_tree / "Kiwi" / extra).write_bytes((mini_tree / "Kiwi" / "3_100.jpg").read_bytes())
    for image in sorted((mini_tree / "Lemon").iterdir())[2:]:
        image.unlink()  # Lemon keeps 2 of 8: its unused quota moves to the others
    first = sample_paths(spark, mini_tree, strategy="total", size=55)
    counts = {label: sum(1 for row in first if row[0] == label) for label, _ in first}
    assert len(first) == 55
    # equal share 5; Lemon can give only 2; the 8 left go one each to the classes with most room (Kiwi first)
    assert counts["Lemon"] == 2
    assert counts["Kiwi"] == 6
    assert sorted(counts.values()) == [2, 5] + [6] * 8
    assert first == sample_paths(spark, mini_tree, strategy="total", size=55)
    assert first != sample_paths(spark, mini_tree, strategy="total", size=55, seed=7)


def test_sample_is_a_manifest_of_raw_paths_without_image_bytes(spark, mini_tree):
    raw = ImageFolderDataset(filepath=str(mini_tree)).load()
    sample = stratified_sample(raw, {"seed": 42, "strategy": "all"})
    assert sample.columns == ["path", "label"]
    assert {row.path for row in sample.collect()} == {row.path for row in raw.select("path").collect()}


def test_per_class_sample_keeps_labels_with_spaces(spark, mini_tree):
    rows = sample_paths(spark, mini_tree, strategy="per_class", size=3)
    assert len(rows) == 30
    assert sum(label == "Apple Granny Smith" for label, _ in rows) == 3
