import numpy as np
import pandas as pd
import pytest

from fruits.datasets import ImageFolderDataset
from fruits.engines import build_predictor, export_model
from fruits.pipelines.featurization.nodes import featurize_batch, featurize_images
from fruits.pipelines.image_loading.nodes import with_labels
from tests.support.paths import MINI_SET

SETTINGS = {"engine": "keras", "batch_size": 4, "threads_per_task": 1}


@pytest.fixture(scope="module")
def small_predictor(small_model):
    return build_predictor(export_model(small_model, "keras"), threads=1, batch_size=4)


def test_batch_keeps_row_order_and_records_reasons(small_predictor):
    good = (MINI_SET / "Orange" / "3_100.jpg").read_bytes()
    contents = pd.Series([good, b"", good, b"garbage", good, good, good])
    result = featurize_batch(contents, small_predictor, image_size=96, batch_size=4)
    assert list(result["error"].isna()) == [True, False, True, False, True, True, True]
    assert list(result["error"].dropna()) == ["empty file", "not a decodable image"]
    vectors = result["features"].dropna()
    assert all(v.shape == (1280,) and v.dtype == np.float32 for v in vectors)
    assert np.allclose(vectors.iloc[0], vectors.iloc[-1], atol=1e-5)  # same image, same features


def test_udf_featurizes_every_image_or_rejects_it(spark, mini_tree, small_model):
    (mini_tree / "Kiwi" / "empty.jpg").write_bytes(b"")
    (mini_tree / "Kiwi" / "truncated.png").write_bytes((mini_tree / "Kiwi" / "3_100.jpg").read_bytes()[:900])
    images = with_labels(ImageFolderDataset(filepath=str(mini_tree)).load()).repartition(3)
    table, counters = featurize_images(images, export_model(small_model, "keras"), SETTINGS)
    rows = table.collect()
    accepted = [row for row in rows if row.error is None]
    rejected = {row.path.rsplit("/", 1)[-1]: row.error for row in rows if row.error is not None}
    assert table.columns == ["path", "label", "features", "error"]
    assert len(rows) == 82
    assert len(accepted) == 80
    assert rejected["empty.jpg"] == "empty file"
    assert rejected["truncated.png"].startswith(("corrupt image", "not a decodable image"))
    assert {len(row.features) for row in accepted} == {1280}
    assert counters["images_inferred"].value == 80
    assert 1 <= counters["models_built"].value <= 3  # once per Python worker, not once per batch
