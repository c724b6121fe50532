"""Ingestion pipeline: raw image tree -> manifest of every file (what it is) -> stratified sample -> the listing's
counts and how the sample changed."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.ingestion.nodes import list_images, sample_images, summarize_listing


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=list_images,
                inputs=["raw_images", "params:ingestion"],
                outputs="image_manifest",
                name="list_images",
            ),
            Node(
                func=sample_images,
                inputs=["image_manifest", "params:sampling"],
                outputs="image_sample",
                name="sample_images",
            ),
            Node(
                func=summarize_listing,
                inputs=["image_manifest", "image_sample", "previous_image_sample", "run_info"],
                outputs="listing_summary",
                name="summarize_listing",
            ),
        ]
    )
