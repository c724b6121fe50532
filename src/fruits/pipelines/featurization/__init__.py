"""featurization pipeline."""

from fruits.pipelines.featurization.pipeline import create_pipeline

__all__ = ["create_pipeline"]
