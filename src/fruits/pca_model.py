"""The fitted PCA model as the other pipelines use it: how many components it keeps, and its projection."""

from __future__ import annotations

import numpy as np
from pyspark.ml import PipelineModel


def kept_components(pca_model: PipelineModel) -> int:
    """k of a model fitted by the PCA pipeline: the number of components its final slicer keeps."""
    return len(pca_model.stages[-1].getIndices())


def projection_matrix(pca_model: PipelineModel) -> np.ndarray:
    """The kept components as a (dimension, k) matrix: the model projects a vector v on ``v @ matrix``.

    Spark's PCAModel does not centre the data before projecting, so neither does this matrix.
    """
    return pca_model.stages[0].pc.toArray()[:, : kept_components(pca_model)]
