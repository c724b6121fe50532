"""A PCA sample of three well separated classes of video frames, shared by the reporting tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from devkit.paths import MINI_SET

LABELS = ("Apple Braeburn", "Kiwi", "Lemon")


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    """Three well separated classes, 40 video frames each, in a 6-d PCA space."""
    rng = np.random.default_rng(2)
    rows = [(f"file://{MINI_SET}/Kiwi/r_{frame}_100.jpg" if label == "Kiwi" else f"file:///t/{label}/r_{frame}_100.jpg",
             label, (centre + rng.normal(size=6)).astype(np.float32))
            for label, centre in zip(LABELS, (0.0, 5.0, -5.0), strict=True) for frame in range(40)]
    return pd.DataFrame(rows, columns=["path", "label", "pca_features"])
