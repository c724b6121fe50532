"""sampling pipeline."""

from fruits.pipelines.sampling.pipeline import create_pipeline

__all__ = ["create_pipeline"]
