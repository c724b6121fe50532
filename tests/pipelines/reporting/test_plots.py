"""The PCA map draws whatever the PCA kept, one component included."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fruits.pipelines.reporting.plots import plot_pca_map


def test_a_pca_of_one_component_is_mapped_along_its_axis() -> None:
    sample = pd.DataFrame({"path": ["a.jpg", "b.jpg"], "label": ["Kiwi", "Lemon"],
                           "pca_features": [np.array([-1.0], np.float32), np.array([1.0], np.float32)]})
    counts = pd.DataFrame({"label": ["Kiwi", "Lemon"], "featurized": [1, 1]})
    axis = plot_pca_map(sample, counts, 100).axes[0]
    points = np.concatenate([collection.get_offsets() for collection in axis.collections])
    assert points.tolist() == [[-1.0, 0.0], [1.0, 0.0]]
    assert axis.get_ylabel() == "PC 2 (none: the PCA kept one component)"
