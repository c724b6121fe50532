"""Ingestion pipeline: raw image tree -> manifest of every file (what it is) -> stratified sample -> the listing's
counts and how the sample changed. The sample and the counts are kept when the listing did not change
(:mod:`fruits.reuse`)."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.ingestion.nodes import list_images, summarize_listing, update_sample


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
                func=update_sample,
                inputs=["image_manifest", "listing_changes", "image_sample_changes", "params:sampling",
                        "sample_sources", "previous_sample_plan", "run_info"],
                outputs=["image_sample", "sample_plan"],
                name="sample_images",
            ),
            Node(
                func=summarize_listing,
                inputs=["image_manifest", "image_sample", "previous_image_sample", "image_sample_changes", "run_info",
                        "summary_sources", "previous_listing_summary"],
                outputs="listing_summary",
                name="summarize_listing",
            ),
        ]
    )
