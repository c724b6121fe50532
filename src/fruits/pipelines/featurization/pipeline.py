"""Featurization pipeline: pretrained model -> exported engine (once) -> features of every image (Parquet)."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.featurization.nodes import export_inference_model, featurize_images


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=export_inference_model,
                inputs=["mobilenet_v2", "params:featurization"],
                outputs="inference_model",
                name="export_inference_model",
            ),
            Node(
                func=featurize_images,
                inputs=["images", "inference_model", "params:featurization"],
                outputs=["image_features", "inference_counters"],
                name="featurize_images",
            ),
        ]
    )
