"""Image loading pipeline: the sampled image folder (binaryFile) -> labelled, evenly partitioned images."""

from kedro.pipeline import Pipeline, node

from fruits.pipelines.image_loading.nodes import load_images


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(load_images, inputs=["image_sample", "params:image_loading"], outputs=["images", "loaded_images"],
                 name="load_images")
        ]
    )
