"""ingestion pipeline."""

from fruits.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
