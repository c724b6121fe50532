"""Pictures in the report: a file that cannot be shown, a decompression bomb included, is a placeholder tile."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from devkit.paths import MINI_SET
from fruits.datasets.image_tree import ImageTree
from fruits.images import PLACEHOLDER
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.thumbnails import plot_neighbours, plot_rejects
from tests.support.images import decompression_bomb


@pytest.fixture
def bomb_tree(tmp_path: Path) -> Path:
    """A class folder holding a decompression bomb beside a real photo."""
    (tmp_path / "Kiwi").mkdir()
    (tmp_path / "Kiwi" / "bomb.png").write_bytes(decompression_bomb())
    shutil.copy(MINI_SET / "Kiwi" / "3_100.jpg", tmp_path / "Kiwi" / "3_100.jpg")
    return tmp_path


def tiles(figure: Figure) -> dict[str, bool]:
    """Each tile's title, and whether it shows the placeholder instead of the image."""
    shown = {}
    for axis in figure.axes:
        if axis.get_images():
            pixels = np.asarray(axis.get_images()[0].get_array())
            placeholder = any(text.get_text() == "cannot be shown" for text in axis.texts)
            assert placeholder == bool((pixels == PLACEHOLDER[0]).all())
            shown[axis.get_title()] = placeholder
    return shown


def test_a_rejected_decompression_bomb_is_drawn_as_a_placeholder(bomb_tree: Path) -> None:
    rejects = pd.DataFrame({"path": [f"file://{bomb_tree}/Kiwi/bomb.png", f"file://{bomb_tree}/Kiwi/3_100.jpg"],
                            "label": ["Kiwi", "Kiwi"], "reject_kind": ["too many pixels", "unreadable"],
                            "reject_detail": ["decompression bomb guard: …", "gone since the listing"]})
    reasons = pd.DataFrame({"reject_kind": ["too many pixels", "unreadable"], "images": [1, 1]})
    figure = plot_rejects(rejects, reasons, ImageTree(str(bomb_tree)))
    assert figure.texts[0].get_text() == "Rejected images (first 2 of 2)"
    assert tiles(figure) == {"bomb.png\ntoo many pixels": True, "3_100.jpg\nunreadable": False}


def test_a_neighbour_that_is_a_decompression_bomb_is_drawn_as_a_placeholder(sample: pd.DataFrame,
                                                                            bomb_tree: Path) -> None:
    with_bomb = sample.copy()
    kiwi = with_bomb.index[with_bomb["label"] == "Kiwi"]
    with_bomb.loc[kiwi, "path"] = f"file://{bomb_tree}/Kiwi/3_100.jpg"
    with_bomb.loc[kiwi[0], "path"] = f"file://{bomb_tree}/Kiwi/bomb.png"  # the query of its row
    settings = ReportingParams(gallery_queries=3, gallery_neighbours=2)
    shown = tiles(plot_neighbours(with_bomb, ImageTree(str(bomb_tree)), settings, ProbeParams()))
    assert shown["query: Kiwi"] and not any(placeholder for title, placeholder in shown.items()
                                            if title.startswith("Kiwi\n"))


def test_a_gallery_with_fewer_images_than_its_columns_leaves_the_rest_blank(bomb_tree: Path) -> None:
    photo = f"file://{bomb_tree}/Kiwi/3_100.jpg"
    two = pd.DataFrame({"path": [photo, photo], "label": ["Kiwi", "Lemon"],
                        "pca_features": [np.zeros(2, np.float32), np.ones(2, np.float32)]})
    figure = plot_neighbours(two, ImageTree(str(bomb_tree)), ReportingParams(gallery_neighbours=5), ProbeParams())
    assert sorted(tiles(figure)) == ["Kiwi\nd = 1.4", "Lemon\nd = 1.4", "query: Kiwi", "query: Lemon"]
    assert sum(not axis.axison for axis in figure.axes) == 2 * 6 - 4
