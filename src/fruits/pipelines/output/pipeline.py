"""Output pipeline: features + PCA model -> results Parquet; failures -> rejects Parquet."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.output.nodes import collect_rejects, project_features


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=project_features,
                inputs=["image_features", "pca_model"],
                outputs="results",
                name="project_features",
            ),
            Node(
                func=collect_rejects,
                inputs="image_features",
                outputs="rejects",
                name="collect_rejects",
            ),
        ]
    )
