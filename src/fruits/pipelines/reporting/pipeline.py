"""Reporting pipeline: results -> tables, plots, classifier accuracy, run summary and a Markdown report."""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.reporting.nodes import (
    count_images_per_class,
    count_reject_reasons,
    evaluate_classifier,
    list_rejects,
    plot_explained_variance,
    plot_pca_map,
    render_report,
    summarize_run,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=count_images_per_class,
                inputs=["results", "rejects"],
                outputs="class_counts",
                name="count_images_per_class",
            ),
            Node(
                func=list_rejects,
                inputs=["rejects", "params:reporting.max_reject_rows"],
                outputs="rejects_report",
                name="list_rejects",
            ),
            Node(
                func=count_reject_reasons,
                inputs="rejects",
                outputs="reject_reasons",
                name="count_reject_reasons",
            ),
            Node(
                func=evaluate_classifier,
                inputs=["results", "params:reporting.classifier"],
                outputs="classifier_metrics",
                name="evaluate_classifier",
            ),
            Node(
                func=plot_explained_variance,
                inputs=["explained_variance", "pca_model", "params:pca.variance_target"],
                outputs="explained_variance_plot",
                name="plot_explained_variance",
            ),
            Node(
                func=plot_pca_map,
                inputs=["results", "params:reporting.map_max_points", "params:reporting.classifier.seed"],
                outputs="pca_map_plot",
                name="plot_pca_map",
            ),
            Node(
                func=summarize_run,
                inputs=[
                    "loaded_images",
                    "class_counts",
                    "explained_variance",
                    "pca_model",
                    "classifier_metrics",
                    "inference_counters",
                    "run_metrics",
                ],
                outputs="run_summary",
                name="summarize_run",
            ),
            Node(
                func=render_report,
                inputs=["run_summary", "class_counts", "reject_reasons"],
                outputs="report",
                name="render_report",
            ),
        ]
    )
