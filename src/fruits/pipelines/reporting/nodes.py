"""Reporting: what a person looks at after a run (tables, plots, held-out accuracy, timings)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from pyspark.ml import Pipeline as MLPipeline
from pyspark.ml import PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.feature import StringIndexer
from pyspark.ml.functions import array_to_vector
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fruits.pca_model import kept_components
from fruits.tables import file_name

logger = logging.getLogger(__name__)


def count_images_per_class(results: DataFrame, rejects: DataFrame) -> pd.DataFrame:
    """Per class: images featurized, rejected, and their total (the class's input count)."""
    featurized = results.groupBy("label").agg(F.count("*").alias("featurized"))
    rejected = rejects.groupBy("label").agg(F.count("*").alias("rejected"))
    table = featurized.join(rejected, "label", "full_outer").fillna(0).toPandas()
    table["total"] = table["featurized"] + table["rejected"]
    return table.sort_values("label").reset_index(drop=True)[["label", "featurized", "rejected", "total"]]


def list_rejects(rejects: DataFrame, max_rows: int) -> pd.DataFrame:
    """The rejected images with their reason (capped: the full list is the rejects Parquet)."""
    return rejects.orderBy("label", "path").limit(max_rows).toPandas()


def count_reject_reasons(rejects: DataFrame) -> pd.DataFrame:
    """Rejects per kind of reason over all of them (the detail after ':' is file-specific)."""
    kind = F.trim(F.split("reason", ":").getItem(0)).alias("reason")
    return rejects.groupBy(kind).agg(F.count("*").alias("images")).orderBy(F.desc("images"), "reason").toPandas()


def stratified_split(results: DataFrame, test_fraction: float, seed: int) -> tuple[DataFrame, DataFrame]:
    """Exact per-class split: the same share of every class is held out, chosen by a seeded hash of the file name
    (not the full path, so the split does not depend on where the data lives).

    The split is materialised once (local checkpoint): the optimizer's iterations must not re-run the windows.
    """
    by_class = Window.partitionBy("label")
    order = F.xxhash64(file_name(F.col("path")), F.lit(seed))
    ranked = results.withColumn("rank", F.row_number().over(by_class.orderBy(order)))
    ranked = ranked.withColumn("class_size", F.count("*").over(by_class))
    # At least one test image per class, but never a class's last training image.
    wanted = F.greatest(F.lit(1), F.round(F.col("class_size") * test_fraction))
    held_out = F.col("rank") <= F.least(F.col("class_size") - 1, wanted)
    split = ranked.withColumn("held_out", held_out).drop("rank", "class_size").localCheckpoint()
    return split.where(~F.col("held_out")), split.where(F.col("held_out"))


def evaluate_classifier(results: DataFrame, settings: dict[str, Any]) -> dict[str, Any]:
    """Proof the features are useful: logistic regression on the PCA features, held-out accuracy."""
    test_fraction = float(settings["test_fraction"])
    if not 0 < test_fraction < 1:
        raise ValueError(f"reporting.classifier.test_fraction must be in (0, 1), got {test_fraction}.")
    data = results.select("label", "path", array_to_vector("pca_features").alias("x"))
    labelled = StringIndexer(inputCol="label", outputCol="y").fit(data).transform(data)  # every class, even test-only
    train, test = stratified_split(labelled, test_fraction, int(settings["seed"]))
    model = MLPipeline(
        stages=[
            # No standardization: PCA components share one scale, and rescaling each to unit variance would
            # blow the noise of the last components up to the weight of the first.
            LogisticRegression(featuresCol="x", labelCol="y", maxIter=int(settings["max_iter"]),
                               regParam=float(settings["reg_param"]), standardization=False),
        ]
    ).fit(train)
    predictions = model.transform(test)
    accuracy = MulticlassClassificationEvaluator(labelCol="y", metricName="accuracy").evaluate(predictions)
    metrics = {"model": "logistic regression on pca_features", "accuracy": round(float(accuracy), 4),
               "train_images": train.count(), "test_images": test.count()}
    logger.info("Held-out accuracy %.3f on %d images", metrics["accuracy"], metrics["test_images"])
    return metrics


def plot_explained_variance(explained_variance: pd.DataFrame, pca_model: PipelineModel, target: float) -> Figure:
    """Cumulative explained variance against the number of components, with the target and the chosen k."""
    k = kept_components(pca_model)
    figure = Figure(figsize=(7, 4))
    axis = figure.subplots()
    axis.plot(explained_variance["component"], explained_variance["cumulative"], label="cumulative")
    axis.axhline(target, color="grey", linestyle="--", label=f"target {target:.0%}")
    axis.axvline(k, color="red", linestyle=":", label=f"k = {k}")
    axis.set(xlabel="number of components", ylabel="explained variance", ylim=(0, 1.02),
             title="PCA explained variance (MobileNetV2 features)")
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure


def plot_pca_map(results: DataFrame, max_points: int, seed: int) -> Figure:
    """First two principal components, one colour per class (a seeded sample when there are many images)."""
    sample = results.select("label", F.col("pca_features")[0].alias("pc1"), F.col("pca_features")[1].alias("pc2"))
    points = sample.orderBy(F.xxhash64("label", "pc1", F.lit(seed))).limit(max_points).toPandas()
    figure = Figure(figsize=(9, 7))
    axis = figure.subplots()
    colours = colormaps["tab20"]
    for index, (label, group) in enumerate(points.groupby("label")):
        axis.scatter(group["pc1"], group["pc2"], s=10, color=colours(index % 20), label=label)
    axis.set(xlabel="PC 1", ylabel="PC 2", title=f"PCA map of {len(points)} images")
    if points["label"].nunique() <= 20:
        axis.legend(fontsize=7, markerscale=2, loc="best")
    figure.tight_layout()
    return figure


def summarize_run(
    loaded_images: int,
    class_counts: pd.DataFrame,
    explained_variance: pd.DataFrame,
    pca_model: PipelineModel,
    classifier: dict[str, Any],
    inference_counters: dict[str, Any],
    run_metrics: dict[str, Any],
) -> dict[str, Any]:
    """Machine-readable run summary; the counters are read here, after PCA, to prove the network ran once.

    Fails when images went missing: every loaded image must be in the results or in the rejects.
    """
    featurized, rejected = int(class_counts["featurized"].sum()), int(class_counts["rejected"].sum())
    if featurized + rejected != loaded_images:
        raise ValueError(f"{loaded_images} images were loaded but {featurized} featurized + {rejected} rejected.")
    inferred = int(inference_counters["images_inferred"].value)
    if inferred != featurized:
        logger.warning("The network ran %d times for %d images: some work was recomputed.", inferred, featurized)
    k = kept_components(pca_model)
    return {
        "input_images": loaded_images,
        "featurized_images": featurized,
        "rejected_images": rejected,
        "classes": len(class_counts),
        "images_inferred": inferred,
        "models_built": int(inference_counters["models_built"].value),
        "pca_k": k,
        "pca_explained_variance": round(float(explained_variance["cumulative"].iloc[k - 1]), 4),
        "classifier": classifier,
        "stage_seconds": dict(run_metrics["stage_seconds"]),
    }


def _markdown_table(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(str(value) for value in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, *rows])


def render_report(summary: dict[str, Any], class_counts: pd.DataFrame, reject_reasons: pd.DataFrame) -> str:
    """One Markdown page linking the plots: counts, rejects, PCA, accuracy and stage timings."""
    stages = pd.DataFrame(sorted(summary["stage_seconds"].items()), columns=["stage", "seconds"])
    return "\n\n".join(
        [
            "# Fruits! featurization report",
            f"**{summary['input_images']}** input images in **{summary['classes']}** classes: "
            f"**{summary['featurized_images']}** featurized, **{summary['rejected_images']}** rejected. "
            f"MobileNetV2 ran on {summary['images_inferred']} images "
            f"({summary['models_built']} model builds on the workers).",
            f"## PCA\nk = **{summary['pca_k']}** components keep "
            f"**{summary['pca_explained_variance']:.1%}** of the variance.\n\n"
            "![explained variance](explained_variance.png)\n\n![PCA map](pca_map.png)",
            f"## Are the features useful?\nHeld-out accuracy of a {summary['classifier']['model']}: "
            f"**{summary['classifier']['accuracy']:.1%}** "
            f"({summary['classifier']['train_images']} train / {summary['classifier']['test_images']} test images, "
            "stratified split).",
            "## Images per class\n" + _markdown_table(class_counts),
            "## Rejects\n"
            + (_markdown_table(reject_reasons) + "\n\nList: `rejects.csv`." if len(reject_reasons) else "None."),
            "## Stage timings\n" + _markdown_table(stages),
        ]
    )
