"""Featurization pipeline: pretrained model -> exported engine (once) -> features of every image (Parquet)."""

from kedro.pipeline import Pipeline, node

from fruits.pipelines.featurization.nodes import export_inference_model, featurize_images


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                export_inference_model,
                inputs=["mobilenet_v2", "params:featurization"],
                outputs="inference_model",
                name="export_inference_model",
            ),
            node(
                featurize_images,
                inputs=["images", "inference_model", "params:featurization"],
                outputs=["image_features", "inference_counters"],
                name="featurize_images",
            ),
        ]
    )
