"""reporting pipeline."""

from fruits.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
