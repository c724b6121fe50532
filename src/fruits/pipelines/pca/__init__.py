"""pca pipeline."""

from fruits.pipelines.pca.pipeline import create_pipeline

__all__ = ["create_pipeline"]
