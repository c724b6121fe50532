"""Reporting pipeline: results, rejects, PCA and run records -> tables, plots, a probe, a summary and a report.

Every node but the first, the summary and the page takes the report's plan last (``report_plan``,
:func:`fruits.reuse.unless_reused`): a run that left the tables as the published report saw them keeps that
report's counts, sample, probe and figures.
"""

from kedro.pipeline import Node, Pipeline

from fruits.pipelines.reporting.counts import count_images_per_class, count_reject_reasons, list_rejects
from fruits.pipelines.reporting.markdown import render_report
from fruits.pipelines.reporting.plots import plot_explained_variance, plot_pca_map
from fruits.pipelines.reporting.probe import evaluate_probe
from fruits.pipelines.reporting.sample import sample_results
from fruits.pipelines.reporting.summary import summarize_run
from fruits.pipelines.reporting.thumbnails import plot_neighbours, plot_rejects
from fruits.reuse import unless_reused


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=count_images_per_class,
                inputs=["results", "rejects", "report_tables", "previous_report_plan", "params:reporting",
                        "params:probe", "run_info"],
                outputs=["class_counts", "report_plan"],
                name="count_images_per_class",
            ),
            Node(
                func=unless_reused(count_reject_reasons),
                inputs=["rejects", "report_plan"],
                outputs="reject_reasons",
                name="count_reject_reasons",
            ),
            Node(
                func=unless_reused(list_rejects),
                inputs=["rejects", "params:reporting.max_reject_rows", "report_plan"],
                outputs="rejects_report",
                name="list_rejects",
            ),
            Node(
                func=unless_reused(sample_results),
                inputs=["results", "results_changes", "previous_results_sample", "previous_report_plan", "class_counts",
                        "pca_fit", "params:reporting", "params:probe", "report_plan"],
                outputs="results_sample",
                name="sample_results",
            ),
            Node(
                func=unless_reused(evaluate_probe),
                inputs=["results_sample", "params:probe", "report_plan"],
                outputs="probe_metrics",
                name="evaluate_probe",
            ),
            Node(
                func=unless_reused(plot_explained_variance),
                inputs=["explained_variance", "pca_fit", "params:pca.variance_target", "report_plan"],
                outputs="explained_variance_plot",
                name="plot_explained_variance",
            ),
            Node(
                func=unless_reused(plot_pca_map),
                inputs=["results_sample", "class_counts", "params:reporting.map_max_points", "report_plan"],
                outputs="pca_map_plot",
                name="plot_pca_map",
            ),
            Node(
                func=unless_reused(plot_neighbours),
                inputs=["results_sample", "raw_images", "params:reporting", "params:probe", "report_plan"],
                outputs="neighbours_plot",
                name="plot_neighbours",
            ),
            Node(
                func=unless_reused(plot_rejects),
                inputs=["rejects_report", "reject_reasons", "raw_images", "report_plan"],
                outputs="rejects_plot",
                name="plot_rejects",
            ),
            Node(
                func=summarize_run,
                inputs=[
                    "file_accounting",
                    "featurization_report",
                    "pca_fit",
                    "probe_metrics",
                    "class_counts",
                    "reject_reasons",
                    "run_info",
                    "run_metrics",
                ],
                outputs="run_summary",
                name="summarize_run",
            ),
            Node(
                func=render_report,
                inputs=["run_summary", "class_counts", "reject_reasons", "run_metrics", "report_plan"],
                outputs="report",
                name="render_report",
            ),
        ]
    )
