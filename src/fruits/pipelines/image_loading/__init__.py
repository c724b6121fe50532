"""image loading pipeline."""

from fruits.pipelines.image_loading.pipeline import create_pipeline

__all__ = ["create_pipeline"]
