import pytest
from pyspark.sql import functions as F

from fruits.datasets import ImageFolderDataset
from fruits.pipelines.image_loading.nodes import load_images, parent_folder_name, partition_count, with_labels

SETTINGS = {"tasks_per_core": 2, "max_images_per_partition": 5000}


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("file:/data/Test/Apple Braeburn/r_1_100.jpg", "Apple Braeburn"),
        ("s3a://bucket/raw/Physalis with Husk/3_100.jpg", "Physalis with Husk"),
        ("file:/data/Test/C++ fruit/1.png", "C++ fruit"),
        ("file:/data/Test/100% juice/A%41.jpeg", "100% juice"),
    ],
)
def test_label_is_decoded_parent_folder(spark, path, label):
    frame = spark.createDataFrame([(path,)], "path string")
    assert frame.select(parent_folder_name(F.col("path"))).first()[0] == label


@pytest.mark.parametrize(
    ("images", "cores", "expected"),
    [(80, 2, 4), (20_622, 2, 6), (3, 8, 3), (100_000, 8, 24), (100_000, 3, 21)],
)
def test_partition_count_keeps_cores_busy_and_bounds_size(images, cores, expected):
    assert partition_count(images, cores, tasks_per_core=2, max_images_per_partition=5000) == expected


def test_loaded_images_have_labels_and_all_accepted_extensions(spark, mini_tree):
    source = (mini_tree / "Kiwi" / "3_100.jpg").read_bytes()
    (mini_tree / "100% juice").mkdir()
    (mini_tree / "100% juice" / "A%41 1.jpg").write_bytes(source)
    (mini_tree / "Kiwi" / "UPPER.JPG").write_bytes(source)
    (mini_tree / "Kiwi" / "long.JpEg").write_bytes(source)
    (mini_tree / "Kiwi" / "notes.txt").write_text("not an image")
    raw = ImageFolderDataset(filepath=str(mini_tree)).load()
    images, loaded = load_images(raw, with_labels(raw).select("path", "label"), SETTINGS)
    counts = {row.label: row["count"] for row in images.groupBy("label").count().collect()}
    assert images.columns == ["path", "label", "content"]
    assert counts["Kiwi"] == 10
    assert counts["Apple Granny Smith"] == 8
    assert counts["100% juice"] == 1
    assert sum(counts.values()) == loaded == 83
    assert images.rdd.getNumPartitions() == 2 * spark.sparkContext.defaultParallelism


def test_only_the_sampled_images_are_loaded_with_their_bytes(spark, mini_tree):
    raw = ImageFolderDataset(filepath=str(mini_tree)).load()
    sample = with_labels(raw).where(F.col("label") == "Kiwi").select("path", "label")
    images, loaded = load_images(raw, sample, SETTINGS)
    rows = images.collect()
    assert loaded == len(rows) == 8
    assert {row.label for row in rows} == {"Kiwi"}
    for row in rows:
        assert row.content == (mini_tree / "Kiwi" / row.path.rsplit("/", 1)[-1]).read_bytes()


def test_a_sampled_image_gone_from_the_tree_is_an_error(spark, mini_tree):
    raw = ImageFolderDataset(filepath=str(mini_tree)).load()
    gone = spark.createDataFrame([(f"file:{mini_tree}/Kiwi/gone.jpg", "Kiwi")], "path string, label string")
    with pytest.raises(ValueError, match="1 of the 81 sampled images are no longer in raw_images"):
        load_images(raw, with_labels(raw).select("path", "label").unionByName(gone), SETTINGS)
