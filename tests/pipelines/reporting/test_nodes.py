import numpy as np
import pytest
from matplotlib.figure import Figure

from fruits.pipelines.output.nodes import project_features
from fruits.pipelines.pca.nodes import fit_pca
from fruits.pipelines.reporting.nodes import (
    count_images_per_class,
    count_reject_reasons,
    evaluate_classifier,
    plot_explained_variance,
    plot_pca_map,
    render_report,
    stratified_split,
    summarize_run,
)
from fruits.tables import FEATURE_TABLE_SCHEMA


@pytest.fixture(scope="module")
def fitted(spark):
    """Three well separated classes of 30 points in 6-d, plus a reject."""
    rng = np.random.default_rng(2)
    rows = []
    for label, centre in (("Apple Braeburn", 0.0), ("Kiwi", 5.0), ("Lemon", -5.0)):
        rows += [(f"{label}/{i}.jpg", label, [float(x) for x in centre + rng.normal(size=6)], None) for i in range(30)]
    rows.append(("Kiwi/bad.jpg", "Kiwi", None, "empty file"))
    features = spark.createDataFrame(rows, FEATURE_TABLE_SCHEMA)
    model, curve = fit_pca(features, {"variance_target": 0.9, "max_components": 6, "n_components": 2})
    rejects = features.where("error is not null").selectExpr("path", "label", "error as reason")
    return project_features(features, model), rejects, model, curve


def test_stratified_split_holds_out_the_same_share_of_each_class(fitted):
    train, test = stratified_split(fitted[0], 0.2, seed=1)
    assert {r.label: r["count"] for r in test.groupBy("label").count().collect()} == {
        "Apple Braeburn": 6, "Kiwi": 6, "Lemon": 6}
    assert train.count() == 72
    assert train.join(test, "path").count() == 0


def test_a_single_image_class_stays_in_training(spark):
    rows = [("Kiwi/1.jpg", "Kiwi"), ("Lemon/1.jpg", "Lemon"), ("Lemon/2.jpg", "Lemon"), ("Lemon/3.jpg", "Lemon")]
    train, test = stratified_split(spark.createDataFrame(rows, "path string, label string"), 0.5, seed=1)
    assert [r.label for r in train.collect()].count("Kiwi") == 1
    assert sorted(r.label for r in test.collect()) == ["Lemon", "Lemon"]  # round(3 x 0.5), one left to train


def test_classifier_separates_separable_classes(fitted):
    metrics = evaluate_classifier(fitted[0], {"test_fraction": 0.2, "seed": 1, "max_iter": 50, "reg_param": 0.0})
    assert metrics["accuracy"] >= 0.9
    assert (metrics["train_images"], metrics["test_images"]) == (72, 18)


def test_counts_plots_summary_and_report(spark, fitted):
    results, rejects, model, curve = fitted
    counts = count_images_per_class(results, rejects)
    assert counts.to_dict("records")[1] == {"label": "Kiwi", "featurized": 30, "rejected": 1, "total": 31}
    assert isinstance(plot_explained_variance(curve, model, 0.9), Figure)
    assert isinstance(plot_pca_map(results, max_points=50, seed=1), Figure)

    reasons = count_reject_reasons(rejects)
    assert reasons.to_dict("records") == [{"reason": "empty file", "images": 1}]
    classifier = {"model": "lr", "accuracy": 0.97, "train_images": 72, "test_images": 18}
    context = spark.sparkContext
    counters = {"images_inferred": context.accumulator(90), "models_built": context.accumulator(2)}
    timings = {"stage_seconds": {"featurize_images": 12.5}}
    summary = summarize_run(91, counts, curve, model, classifier, counters, timings)
    assert (summary["input_images"], summary["featurized_images"], summary["rejected_images"]) == (91, 90, 1)
    assert summary["pca_k"] == 2
    report = render_report(summary, counts, reasons)
    assert "**97.0%**" in report
    assert "| empty file | 1 |" in report
    assert "| featurize_images | 12.5 |" in report
    with pytest.raises(ValueError, match="92 images were loaded but 90 featurized \\+ 1 rejected"):
        summarize_run(92, counts, curve, model, {}, {"images_inferred": spark.sparkContext.accumulator(90)}, {})
