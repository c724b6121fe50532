"""Sampling pipeline: raw image tree -> stratified sample written as an image tree (original bytes)."""

from kedro.pipeline import Pipeline, node

from fruits.pipelines.sampling.nodes import stratified_sample


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [node(stratified_sample, inputs=["raw_images", "params:sampling"], outputs="image_sample",
              name="stratified_sample")]
    )
