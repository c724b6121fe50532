"""Output pipeline: store + PCA model -> results table (changed by what this run changed); rejects table; the
accounting of every listed file (the publish gate)."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.output.nodes import account_for_files, collect_rejects, update_results


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=update_results,
                inputs=[
                    "feature_store",
                    "results_index",
                    "image_sample",
                    "pca_components",
                    "pca_fit",
                    "featurization_report",
                ],
                outputs="results",
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
