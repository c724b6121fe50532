"""PCA pipeline: features of the current sample (read from the store) -> PCA model, refitted only when needed."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.pca.nodes import find_changed_images, fit_pca


def changed_images_node() -> Node:
    """The images changed since the published run, which the PCA's count and the results are kept current by."""
    return Node(
        func=find_changed_images,
        inputs=[
            "image_sample_changes",
            "new_features",
            "feature_store",
            "featurization_report",
            "featurization_sources",
            "published_featurization_sources",
            "run_info",
        ],
        outputs="changed_images",
        name="find_changed_images",
    )


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            changed_images_node(),
            Node(
                func=fit_pca,
                inputs=[
                    "feature_store",
                    "image_sample",
                    "featurization_report",
                    "previous_pca_fit",
                    "previous_pca_fit_images",
                    "changed_images",
                    "params:pca",
                    "run_info",
                ],
                outputs=["pca_model", "pca_components", "explained_variance", "pca_fit", "pca_fit_images"],
                name="fit_pca",
            ),
        ]
    )
