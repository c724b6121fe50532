"""PCA pipeline: features (read back from Parquet, never recomputed) -> fitted PCA model + variance curve."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.pca.nodes import fit_pca


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=fit_pca,
                inputs=["image_features", "params:pca"],
                outputs=["pca_model", "explained_variance"],
                name="fit_pca",
            ),
        ]
    )
