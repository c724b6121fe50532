"""Image loading pipeline: the sampled images, read from the raw tree (binaryFile) -> labelled, evenly partitioned."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.image_loading.nodes import load_images


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=load_images,
                inputs=["raw_images", "image_sample", "params:image_loading"],
                outputs=["images", "loaded_images"],
                name="load_images",
            ),
        ]
    )
