"""Image loading pipeline: the sampled images, read from the raw tree (binaryFile) -> labelled, evenly partitioned."""

from kedro.pipeline import Pipeline, node

from fruits.pipelines.image_loading.nodes import load_images


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                load_images,
                inputs=["raw_images", "image_sample", "params:image_loading"],
                outputs=["images", "loaded_images"],
                name="load_images",
            )
        ]
    )
