"""output pipeline."""

from fruits.pipelines.output.pipeline import create_pipeline

__all__ = ["create_pipeline"]
