"""Reporting pipeline: results -> tables, plots, classifier accuracy, run summary and a Markdown report."""

from kedro.pipeline import Pipeline, node

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
            node(count_images_per_class, ["results", "rejects"], "class_counts", name="count_images_per_class"),
            node(list_rejects, ["rejects", "params:reporting.max_reject_rows"], "rejects_report", name="list_rejects"),
            node(count_reject_reasons, "rejects", "reject_reasons", name="count_reject_reasons"),
            node(evaluate_classifier, ["results", "params:reporting.classifier"], "classifier_metrics",
                 name="evaluate_classifier"),
            node(plot_explained_variance, ["explained_variance", "pca_model", "params:pca.variance_target"],
                 "explained_variance_plot", name="plot_explained_variance"),
            node(plot_pca_map, ["results", "params:reporting.map_max_points", "params:reporting.classifier.seed"],
                 "pca_map_plot", name="plot_pca_map"),
            node(
                summarize_run,
                ["loaded_images", "class_counts", "explained_variance", "pca_model", "classifier_metrics",
                 "inference_counters", "run_metrics"],
                "run_summary",
                name="summarize_run",
            ),
            node(render_report, ["run_summary", "class_counts", "reject_reasons"], "report", name="render_report"),
        ]
    )
