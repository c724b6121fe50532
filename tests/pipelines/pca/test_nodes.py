import numpy as np
import pytest

from fruits.pipelines.pca.nodes import choose_k, fit_pca, fit_rows
from fruits.tables import FEATURE_TABLE_SCHEMA


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


def test_variance_target_outside_unit_interval_is_refused():
    with pytest.raises(ValueError, match=r"variance_target must be in \(0, 1\]"):
        choose_k(np.array([1.0]), 1.5)


@pytest.fixture(scope="module")
def low_rank_features(spark):
    """60 vectors of dimension 12 living in a 3-d subspace (+ tiny noise), plus one rejected image."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 12))
    vectors = rng.normal(size=(60, 3)) * [10.0, 5.0, 2.0] @ basis + rng.normal(scale=1e-3, size=(60, 12))
    rows = [(f"img{i}", "a", [float(x) for x in v], None) for i, v in enumerate(vectors)]
    rows.append(("bad", "a", None, "empty file"))
    return spark.createDataFrame(rows, FEATURE_TABLE_SCHEMA)


def test_pca_finds_the_intrinsic_dimension(low_rank_features):
    model, curve = fit_pca(low_rank_features, {"variance_target": 0.999, "max_components": 10, "n_components": None})
    assert len(curve) == 10
    assert curve["cumulative"].iloc[2] > 0.999 > curve["cumulative"].iloc[1]
    assert model.stages[-1].getIndices() == [0, 1, 2]


def test_fewer_than_two_featurized_images_is_a_clear_error(low_rank_features):
    with pytest.raises(ValueError, match="PCA needs at least 2 featurized images, got 1"):
        fit_pca(low_rank_features.limit(1), {"variance_target": 0.9, "max_components": 10, "n_components": None})


def test_fixed_k_out_of_range_is_refused_before_fitting(low_rank_features):
    with pytest.raises(ValueError, match="pca.n_components must be between 1 and 12, got 13"):
        fit_pca(low_rank_features, {"variance_target": 0.9, "max_components": 10, "n_components": 13})


def test_fixed_k_wins_over_the_variance_target(low_rank_features):
    model, curve = fit_pca(low_rank_features, {"variance_target": 0.5, "max_components": 10, "n_components": 5})
    assert len(curve) == 5
    assert len(model.stages[-1].getIndices()) == 5


def test_fit_sample_is_capped_seeded_and_all_rows_below_the_cap(spark):
    rows = spark.range(5000).withColumnRenamed("id", "row")
    sample = fit_rows(rows, 500, seed=1)
    assert 400 < sample.count() < 600
    assert sorted(r.row for r in sample.collect()) == sorted(r.row for r in fit_rows(rows, 500, seed=1).collect())
    assert fit_rows(rows, 5000, seed=1).count() == 5000
    assert fit_rows(rows, None, seed=1).count() == 5000


def test_pca_on_a_capped_sample_still_finds_the_subspace(low_rank_features):
    settings = {"variance_target": 0.999, "max_components": 10, "n_components": None, "max_fit_rows": 30, "seed": 3}
    model, _ = fit_pca(low_rank_features, settings)
    assert model.stages[-1].getIndices() == [0, 1, 2]
