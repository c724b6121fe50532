"""Featurization pipeline: sample (or its changes) + feature store -> images to featurize -> their features, appended
to the store."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.featurization.nodes import (
    choose_images_to_compare,
    featurize_images,
    plan_featurization,
    record_featurization,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=choose_images_to_compare,
                inputs=[
                    "image_sample",
                    "image_sample_changes",
                    "inference_model",
                    "params:featurization",
                    "featurization_sources",
                    "previous_featurization_report",
                    "run_info",
                ],
                outputs=["images_to_compare", "comparison"],
                name="choose_images_to_compare",
            ),
            Node(
                func=plan_featurization,
                inputs=["images_to_compare", "comparison", "listing_summary", "feature_store", "inference_model",
                        "params:featurization"],
                outputs=["images_to_featurize", "featurization_plan"],
                name="plan_featurization",
            ),
            Node(
                func=featurize_images,
                inputs=["images_to_featurize", "featurization_plan", "inference_model", "params:featurization",
                         "progress"],
                outputs="new_features",
                name="featurize_images",
            ),
            Node(
                func=record_featurization,
                inputs=["new_features", "featurization_plan", "featurization_sources", "run_info"],
                outputs="featurization_report",
                name="record_featurization",
            ),
        ]
    )
