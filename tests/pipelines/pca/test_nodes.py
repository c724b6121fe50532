"""PCA: k from the explained variance; refitted only when the published model cannot be reused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.feature import PCA
from pyspark.ml.linalg import Vectors

from fruits.datasets.run import UNCHANGED
from fruits.params import PcaParams
from fruits.pipelines.pca.nodes import (
    FIT_SETTINGS,
    choose_k,
    fit_keys,
    fit_pca,
    principal_components,
    refit_reason,
    spark_pca_model,
)
from tests.support.tables import RUN_INFO, report, store_of


@pytest.mark.parametrize(
    ("variance", "target", "fixed", "expected"),
    [
        ([0.5, 0.3, 0.15, 0.05], 0.95, None, 3),
        ([0.5, 0.3, 0.15, 0.05], 0.8, None, 2),
        ([0.5, 0.3, 0.15, 0.05], 1.0, None, 4),
        ([0.5, 0.3], 0.95, None, 2),  # target never reached: keep all fitted components
        ([0.5, 0.3, 0.15, 0.05], 0.95, 1, 1),
    ],
)
def test_choose_k(variance, target, fixed, expected):
    assert choose_k(np.array(variance), target, fixed) == expected


@pytest.fixture(scope="module")
def low_rank(spark):
    """60 vectors of dimension 12 living in a 3-d subspace (+ tiny noise), plus one rejected image."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 12))
    return store_of(spark, rng.normal(size=(60, 3)) * [10.0, 5.0, 2.0] @ basis + rng.normal(scale=1e-3, size=(60, 12)))


def test_pca_finds_the_intrinsic_dimension_and_records_the_fit(low_rank):
    model, components, curve, record = fit_pca(*low_rank, report(), None, PcaParams(variance_target=0.999,
                                                                                       max_components=10), RUN_INFO)
    assert len(curve) == 10
    assert curve["cumulative"].iloc[2] > 0.999 > curve["cumulative"].iloc[1]
    assert model.stages[-1].getIndices() == [0, 1, 2]
    assert components.shape == (12, 3)
    assert record["refit"] and record["reason"] == "no published PCA model yet"
    assert (record["fitted_on_images"], record["k"], record["fingerprint"]) == (60, 3, "fp")
    assert record["fit_run_id"] == "r1"  # the results rows it projects carry it


def test_the_published_model_is_reused_until_enough_images_changed(spark, low_rank):
    settings = PcaParams(variance_target=0.999, max_components=10, refit_growth=0.25)
    vectors = np.asarray([row.features for row in low_rank[0].orderBy("path").collect() if row.features is not None])
    store, index, sample = store_of(spark, vectors[:48])
    *_, first = fit_pca(store, index, sample, report(), None, settings, RUN_INFO)
    assert first["fitted_on_images"] == 48
    ten_more = store_of(spark, vectors[:58], later=10)  # 10 images featurized after the fit
    model, components, curve, record = fit_pca(*ten_more, report(), first, settings, RUN_INFO)
    assert (model, components, curve) == (UNCHANGED, UNCHANGED, UNCHANGED)
    assert not record["refit"] and record["changed_since_fit"] == 10 and record["k"] == first["k"]
    fifteen_more = store_of(spark, vectors[:60], later=15)
    *_, refitted = fit_pca(*fifteen_more, report(), record, settings, RUN_INFO)
    assert refitted["refit"] and "15 images were added or changed since the fit on 48" in refitted["reason"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"fingerprint": "other"}, "the model fingerprint changed (fp -> other)"),
        ({"settings": PcaParams(variance_target=0.9)}, "PCA settings changed (pca.variance_target)"),
        ({"settings": PcaParams(refit=True)}, "a refit was asked for (pca.refit)"),
        ({"full_refresh": True}, "a full refresh was asked for"),
        ({"changed": 26}, "26 images were added or changed since the fit on 100: more than pca.refit_growth = 25%"),
    ],
)
def test_refit_reasons(change: dict, reason: str) -> None:
    settings = PcaParams()
    previous = {"fingerprint": "fp", "settings": {name: getattr(settings, name) for name in FIT_SETTINGS},
                "fitted_on_images": 100, "fit_run_id": "r0"}
    assert refit_reason(previous, "fp", 25, False, settings) is None
    found = refit_reason(previous, change.get("fingerprint", "fp"), change.get("changed", 25),
                         change.get("full_refresh", False), change.get("settings", settings))
    assert found is not None and found.startswith(reason)
    unnamed = {key: value for key, value in previous.items() if key != "fit_run_id"}
    assert refit_reason(unnamed, "fp", 0, False, settings).startswith("the published PCA model does not name its fit")


def test_fewer_than_two_featurized_images_is_a_clear_error(spark):
    with pytest.raises(ValueError, match="PCA needs at least 2 featurized images, got 1"):
        fit_pca(*store_of(spark, np.ones((1, 4))), report(), None, PcaParams(), RUN_INFO)


def test_fixed_k_out_of_range_is_refused_before_fitting(low_rank):
    with pytest.raises(ValueError, match="pca.n_components must be between 1 and 12, got 13"):
        fit_pca(*low_rank, report(), None, PcaParams(n_components=13), RUN_INFO)


def test_the_fit_sample_is_capped_and_seeded() -> None:
    keys = pd.DataFrame({"path": [f"img{i}" for i in range(5000)], "change_key": "k"})
    sample = fit_keys(keys, 500, seed=1)
    assert len(sample) == 500 and sample["path"].is_unique
    assert sample.equals(fit_keys(keys, 500, seed=1)) and not sample.equals(fit_keys(keys, 500, seed=2))
    assert fit_keys(keys, 5000, seed=1) is keys and fit_keys(keys, None, seed=1) is keys


def test_the_fit_equals_spark_ml_pca_fit(spark) -> None:
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(400, 16)) * np.geomspace(10, 0.1, 16) + 3
    frame = spark.createDataFrame([(Vectors.dense(vector),) for vector in vectors], ["feature_vector"])
    reference = PCA(k=6, inputCol="feature_vector", outputCol="p").fit(frame)
    components, explained = principal_components(vectors, 6)
    assert np.allclose(explained, reference.explainedVariance.toArray(), atol=1e-10)
    assert np.allclose(np.abs(components), np.abs(reference.pc.toArray()), atol=1e-8)  # signs are arbitrary
    model = spark_pca_model(spark, components, explained)
    assert model.getK() == 6 and np.allclose(model.pc.toArray(), components)


def test_pca_on_a_capped_sample_still_finds_the_subspace(low_rank):
    settings = PcaParams(variance_target=0.999, max_components=10, max_fit_rows=30, seed=3)
    model, *_, record = fit_pca(*low_rank, report(), None, settings, RUN_INFO)
    assert model.stages[-1].getIndices() == [0, 1, 2]
    assert (record["fit_rows"], record["fitted_on_images"]) == (30, 60)
