"""Pictures of images: the nearest-neighbour gallery and the rejects, each file decoded with the featurization's
guards (a file that cannot be shown is a placeholder tile, never a failed report)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

from fruits.datasets.image_tree import ImageTree
from fruits.images import THUMBNAIL, placeholder, thumbnail
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.probe import nearest_neighbours, video_frames


def draw_tile(axis: Any, picture: Image.Image | None, title: str, colour: str) -> None:
    """One picture with its title, or the placeholder tile saying it cannot be shown."""
    axis.imshow(np.asarray(picture if picture is not None else placeholder()))
    if picture is None:
        axis.text(THUMBNAIL / 2, THUMBNAIL / 2, "cannot be shown", ha="center", va="center", fontsize=7)
    axis.set_title(title, fontsize=7, color=colour)
    axis.set_xticks([])
    axis.set_yticks([])


def plot_neighbours(sample: pd.DataFrame, raw_images: ImageTree, settings: ReportingParams,
                    probe: ProbeParams) -> Figure:
    """Query images (left) and their nearest neighbours in PCA space: red titles mark another class."""
    rows = nearest_neighbours(sample, settings, probe)
    columns = settings.gallery_neighbours + 1
    figure = Figure(figsize=(1.6 * columns, 1.8 * max(1, len(rows))))
    if not rows:
        figure.text(0.5, 0.5, "No images to show", ha="center")
        return figure
    contents = raw_images.read({path for row in rows for path, _, _ in row})
    axes = np.atleast_2d(figure.subplots(len(rows), columns, squeeze=False))
    for axis_row, row in zip(axes, rows, strict=True):
        query_label = row[0][1]
        for axis, neighbour in zip(axis_row, [*row, *[None] * columns], strict=False):
            if neighbour is None:  # fewer images than the gallery's columns
                axis.axis("off")
                continue
            path, label, distance = neighbour
            title = f"query: {label}" if distance == 0 else f"{label}\nd = {distance:.1f}"
            draw_tile(axis, thumbnail(contents[path]), title, "black" if label == query_label else "red")
    others = " (other videos only)" if video_frames(sample["path"]) else ""
    figure.suptitle(f"Nearest neighbours in PCA space{others}", fontsize=10)
    figure.tight_layout()
    return figure


def plot_rejects(rejects_report: pd.DataFrame, reject_reasons: pd.DataFrame, raw_images: ImageTree,
                 max_images: int = 12) -> Figure:
    """Thumbnails of the first rejects with their kind (most cannot be decoded, which is why they are here)."""
    shown = rejects_report.head(max_images)
    columns = 6
    rows = max(1, -(-len(shown) // columns))
    figure = Figure(figsize=(1.8 * columns, 2.0 * rows))
    if shown.empty:
        figure.text(0.5, 0.5, "No rejects", ha="center")
        return figure
    contents = raw_images.read(shown["path"])
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, reject in zip(axes, [*shown.itertuples(), *[None] * len(axes)], strict=False):
        if reject is None:
            axis.axis("off")
            continue
        name = reject.path.rsplit("/", 1)[-1]
        draw_tile(axis, thumbnail(contents[reject.path]), f"{name[:24]}\n{reject.reject_kind[:28]}", "black")
    figure.suptitle(f"Rejected images (first {len(shown)} of {int(reject_reasons['images'].sum())})", fontsize=10)
    figure.tight_layout()
    return figure
