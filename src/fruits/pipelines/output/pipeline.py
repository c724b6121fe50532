"""Output pipeline: features + PCA model -> results Parquet; failures -> rejects Parquet."""

from kedro.pipeline import Pipeline, node

from fruits.pipelines.output.nodes import collect_rejects, project_features


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(project_features, inputs=["image_features", "pca_model"], outputs="results", name="project_features"),
            node(collect_rejects, inputs="image_features", outputs="rejects", name="collect_rejects"),
        ]
    )
