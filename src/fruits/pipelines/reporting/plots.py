"""Charts of the PCA: explained variance against k, and the map of the first two components."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from fruits.pipelines.reporting.markdown import agrees, plural


def plot_explained_variance(explained_variance: pd.DataFrame, pca_fit: dict[str, Any], target: float) -> Figure:
    """Cumulative explained variance against the number of components, around the target and the chosen k."""
    k = int(pca_fit["k"])
    shown = explained_variance.head(max(10, min(len(explained_variance), 2 * k)))
    figure = Figure(figsize=(7, 4))
    axis = figure.subplots()
    axis.plot(shown["component"], shown["cumulative"], label="cumulative explained variance")
    axis.axhline(target, color="grey", linestyle="--", label=f"target {target:.0%}")
    axis.axvline(k, color="red", linestyle=":", label=f"k = {k}")
    axis.set(xlabel="number of components", ylabel="explained variance", ylim=(0, 1.02),
             xlim=(0, shown["component"].max()),
             title=f"PCA of MobileNetV2 features: {plural(k, 'component')} {agrees(k, 'keeps', 'keep')} "
                   f"{pca_fit['explained_variance']:.1%}")
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure


def plot_pca_map(sample: pd.DataFrame, class_counts: pd.DataFrame, max_points: int) -> Figure:
    """The first two principal components, one distinct colour per class; with many classes each class's name is
    written at its centre instead of a legend. At most ``max_points``, shared among the classes: the sample holds
    more of each class when the probe needs them."""
    points = sample.groupby("label").head(max(1, max_points // max(1, sample["label"].nunique())))
    vectors = np.stack(points["pca_features"].to_numpy()) if len(points) else np.zeros((0, 2))
    coordinates = np.zeros((len(points), 2))  # a PCA of very few images may keep one component: PC 2 is then 0
    coordinates[:, : vectors.shape[1]] = vectors[:, :2]
    labels = sorted(points["label"].unique())
    colours = colormaps["turbo"](np.linspace(0.05, 0.95, max(1, len(labels))))
    figure = Figure(figsize=(10, 8))
    axis = figure.subplots()
    for colour, label in zip(colours, labels, strict=False):
        mine = coordinates[(points["label"] == label).to_numpy()]
        axis.scatter(mine[:, 0], mine[:, 1], s=8, color=colour, label=label, alpha=0.7)
        if len(labels) > 20:
            axis.annotate(label, mine.mean(axis=0), fontsize=6, ha="center", color="black")
    if len(labels) <= 20:
        axis.legend(fontsize=7, markerscale=2, loc="best")
    total = int(class_counts["featurized"].sum())
    title = (f"PCA map: a per-class sample of {len(points):,} of {plural(total, 'image')}, "
             f"{plural(len(labels), 'class')}")
    axis.set(xlabel="PC 1", ylabel="PC 2" if vectors.shape[1] > 1 else "PC 2 (none: the PCA kept one component)",
             title=title)
    figure.tight_layout()
    return figure
