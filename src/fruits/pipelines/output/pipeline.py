"""Output pipeline: store + PCA model -> results table (changed by what this run changed); rejects table; the
accounting of every listed file (the publish gate)."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.output.nodes import account_for_files, collect_rejects, update_results
from fruits.pipelines.pca.pipeline import changed_images_node


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            changed_images_node(),  # also in the pca pipeline: each runs alone (Kedro runs it once in the whole)
            Node(
                func=update_results,
                inputs=[
                    "feature_store",
                    "results_index",
                    "image_sample",
                    "pca_components",
                    "pca_fit",
                    "featurization_report",
                    "changed_images",
                    "previous_results_basis",
                ],
                outputs=["results", "results_basis"],
                name="update_results",
            ),
            Node(
                func=collect_rejects,
                inputs=["image_manifest", "feature_store", "image_sample", "featurization_report", "rejects_sources",
                        "previous_rejects_plan", "run_info"],
                outputs=["rejects", "rejects_plan"],
                name="collect_rejects",
            ),
            Node(
                func=account_for_files,
                inputs=["listing_summary", "featurization_report", "run_info"],
                outputs="file_accounting",
                name="account_for_files",
            ),
        ]
    )
