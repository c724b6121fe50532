"""PCA pipeline: features of the current sample (read from the store) -> PCA model, refitted only when needed."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.pca.nodes import fit_pca


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=fit_pca,
                inputs=[
                    "feature_store",
                    "image_sample",
                    "featurization_report",
                    "previous_pca_fit",
                    "previous_pca_fit_images",
                    "params:pca",
                    "run_info",
                ],
                outputs=["pca_model", "pca_components", "explained_variance", "pca_fit", "pca_fit_images"],
                name="fit_pca",
            ),
        ]
    )
