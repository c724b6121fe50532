"""Featurization pipeline: images -> MobileNetV2 features (written once, read back by PCA)."""

from kedro.pipeline import Pipeline, node

from fruits.pipelines.featurization.nodes import featurize_images


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                featurize_images,
                inputs=["images", "mobilenet_v2", "params:featurization"],
                outputs=["image_features", "inference_counters"],
                name="featurize_images",
            )
        ]
    )
