"""Sampling pipeline: raw image tree -> stratified sample, a Parquet manifest of paths and labels."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.sampling.nodes import stratified_sample


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=stratified_sample,
                inputs=["raw_images", "params:sampling"],
                outputs="image_sample",
                name="stratified_sample",
            ),
        ]
    )
