"""PCA: a Spark ML PCA model of the 1280-d features, k chosen from the explained variance, refitted only when
needed. The fit runs on a capped seeded sample, on the driver (see :func:`principal_components`).

A run reuses the published model unless there is none, the features changed meaning (another model fingerprint),
the input folder or the settings changed, a refit is asked for, or enough images were added, changed or left the
sample since the fit (compared with the list of images the fit describes, saved beside it). Those counts are kept
in the fit's record and moved by what changed since (:class:`fruits.changes.ChangedImages`) when they describe the
published versions of the sample and the store; otherwise every image is compared with the list.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
from pyspark.ml import PipelineModel
from pyspark.ml.common import _py2java
from pyspark.ml.feature import PCAModel, VectorSlicer
from pyspark.ml.linalg import DenseMatrix, DenseVector
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from fruits.changes import SAMPLED_NOW, SAMPLED_THEN, ChangedImages
from fruits.datasets.run import UNCHANGED, Unchanged
from fruits.datasets.table import TableChange, TableChanges
from fruits.params import PcaParams
from fruits.provenance import check_one_input
from fruits.tables import IMAGE_KEY, featurized_keys, materialized, seeded_rank, with_features

logger = logging.getLogger(__name__)

FEATURE_VECTOR = "feature_vector"
ALL_COMPONENTS = "pca_all"
PCA_VECTOR = "pca_vector"
FIT_SETTINGS = ("variance_target", "max_components", "n_components", "max_fit_rows", "seed")
CHANGE_KINDS = ("added", "changed", "left")


def choose_k(explained_variance: np.ndarray, target: float, fixed_k: int | None = None) -> int:
    """Smallest k whose cumulative explained variance reaches ``target``, or ``fixed_k`` when set.

    When the fitted components never reach the target, all of them are kept.
    """
    if fixed_k is not None:
        return int(fixed_k)
    if not 0 < target <= 1:
        raise ValueError(f"pca.variance_target must be in (0, 1], got {target}.")
    reached = np.flatnonzero(np.cumsum(explained_variance) >= target - 1e-9)
    return int(reached[0]) + 1 if reached.size else len(explained_variance)


def variance_table(explained_variance: np.ndarray) -> pd.DataFrame:
    """The explained-variance curve: per-component and cumulative share of the total variance."""
    return pd.DataFrame(
        {
            "component": np.arange(1, len(explained_variance) + 1),
            "explained_variance": explained_variance,
            "cumulative": np.cumsum(explained_variance),
        }
    )


def fit_rows(featurized: DataFrame, images: int, max_rows: int | None, seed: int) -> DataFrame:
    """A seeded sample of at most ``max_rows`` of the featurized images to fit on (all of them when None or fewer):
    a few thousand images pin a 1280-d covariance down, and the fit then costs the same at any scale. Spark keeps
    the first ``max_rows`` keys by a seeded hash of the path in each partition; only their vectors are read."""
    if max_rows is None or images <= max_rows:
        return featurized
    logger.info("PCA fitted on a seeded sample of %d of %d images (pca.max_fit_rows)", max_rows, images)
    return featurized.orderBy(seeded_rank("path", seed), "path").limit(max_rows)


def principal_components(vectors: np.ndarray, components: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``components`` eigenvectors of the covariance (as columns, by decreasing variance) and the share
    of the total variance each explains: what Spark ML's PCA computes, with one BLAS product and LAPACK's
    symmetric eigensolver instead of a rank-1 update per row and a full SVD."""
    centred = vectors - vectors.mean(axis=0)
    covariance = centred.T @ centred / max(1, len(vectors) - 1)
    dimension = covariance.shape[0]
    values, vectors_ = scipy.linalg.eigh(covariance, subset_by_index=[dimension - components, dimension - 1])
    order = np.argsort(values)[::-1]
    return vectors_[:, order], np.clip(values[order], 0, None) / np.trace(covariance)


def spark_pca_model(spark: SparkSession, components: np.ndarray, explained: np.ndarray) -> PCAModel:
    """Spark ML's own PCAModel for these components: users load and apply it with Spark ML as if PCA.fit had
    made it (its constructor is Spark-internal, so it is called through the JVM)."""
    context = spark.sparkContext
    dimension, k = components.shape
    matrix = DenseMatrix(dimension, k, components.ravel(order="F").tolist())
    java = context._jvm.org.apache.spark.ml.feature.PCAModel(
        f"PCAModel_{uuid.uuid4().hex[:12]}", _py2java(context, matrix), _py2java(context, DenseVector(explained))
    )
    model = PCAModel(java)
    model._set(k=k, inputCol=FEATURE_VECTOR, outputCol=ALL_COMPONENTS)
    model._transfer_params_to_java()
    return model


def fit(features: DataFrame, settings: PcaParams) -> tuple[PipelineModel, np.ndarray, pd.DataFrame, int]:
    """Fit PCA once with the largest k allowed and keep the first k components (slicing one fit gives the same
    projection as a second fit with the chosen k). Returns the model (PCA + slicer to k); its kept components as a
    (dimension, k) matrix, which projects a vector v on ``v @ matrix`` as the model does (Spark's PCAModel does not
    centre the data before projecting, so neither does the matrix), for the output pipeline to apply without
    loading a Spark ML model; the variance curve; and the number of rows fitted on."""
    rows = features.select("features").toPandas()["features"]
    if len(rows) < 2:
        raise ValueError(f"PCA needs at least 2 featurized images, got {len(rows)}: see the rejects table.")
    vectors = np.stack(rows.to_numpy()).astype(np.float64)
    dimension = vectors.shape[1]
    fixed_k = settings.n_components
    if fixed_k is not None and fixed_k > dimension:
        raise ValueError(f"pca.n_components must be between 1 and {dimension}, got {fixed_k}.")
    components, explained = principal_components(vectors, min(dimension, fixed_k or settings.max_components))
    k = choose_k(explained, settings.variance_target, fixed_k)
    logger.info("PCA keeps k=%d of %d components (%.1f%% of the variance)", k, dimension,
                100 * float(np.sum(explained[:k])))
    pca = spark_pca_model(features.sparkSession, components, explained)
    slicer = VectorSlicer(inputCol=ALL_COMPONENTS, outputCol=PCA_VECTOR, indices=list(range(k)))
    return PipelineModel(stages=[pca, slicer]), components[:, :k], variance_table(explained), len(vectors)


def change_counts(now: Column, fit: Column, prefix: str = "") -> list[Column]:
    """Aggregations that count, per path, an image added since the fit, changed or left, from its change key now
    (``now``) and in the fit (``fit``), each null where there is no such image."""
    return [
        F.count(F.when(now.isNotNull() & fit.isNull(), 1)).alias(f"{prefix}added"),
        F.count(F.when(now.isNotNull() & fit.isNotNull() & (now != fit), 1)).alias(f"{prefix}changed"),
        F.count(F.when(now.isNull() & fit.isNotNull(), 1)).alias(f"{prefix}left"),
    ]


def changes_since_fit(fitted: DataFrame, keys: DataFrame) -> dict[str, int]:
    """Images added to, changed in and gone from what the fit describes (``fitted``: its images' keys), by path:
    whatever the reason (new photos, deletions, another sample or input folder), the fit stops describing the data
    by as much. One join, counted on the executors."""
    now = keys.select("path", "change_key")
    then = fitted.select("path", F.col("change_key").alias("change_key_fit"))
    row = now.join(then, "path", "full_outer").agg(*change_counts(F.col("change_key"), F.col("change_key_fit"))).first()
    return {name: int(row[name]) for name in CHANGE_KINDS}


def changes_moved(counted: dict[str, int], changed: ChangedImages, fitted: DataFrame) -> dict[str, int]:
    """``counted`` (the changes since the fit at the published versions) moved by the images that changed since:
    each of ``changed.paths`` counts as it is now (``changed.after``: its featurized key) instead of as it was
    (``changed.before``), against the fit (``fitted``). Only those paths are joined: the fit's list is scanned with
    them broadcast, and no table is shuffled."""
    def keys(frame: DataFrame, name: str) -> DataFrame:
        return frame.select("path", F.col("change_key").alias(name))

    in_fit = fitted.join(changed.paths, "path", "left_semi")
    row = (changed.paths.join(keys(changed.before, "before"), "path", "left")
           .join(keys(changed.after, "after"), "path", "left").join(keys(in_fit, "fit"), "path", "left")
           .agg(*change_counts(F.col("after"), F.col("fit"), "now_"),
                *change_counts(F.col("before"), F.col("fit"), "then_")).first())
    return {name: counted[name] + int(row[f"now_{name}"]) - int(row[f"then_{name}"]) for name in CHANGE_KINDS}


def describe_changes(changes: dict[str, int], fitted_on: int) -> str:
    """``3 images added, 0 changed and 240 left since the fit on 240``."""
    return (f"{changes['added']} images added, {changes['changed']} changed and {changes['left']} left since the "
            f"fit on {fitted_on}")


def refit_reason(previous: dict[str, Any] | None, fingerprint: str, changes: dict[str, int] | None,
                 full_refresh: bool, settings: PcaParams, raw_images: str) -> str | None:
    """Why the published PCA cannot be reused as is (None when it can); ``changes`` is None when the published fit
    does not list its images."""
    if previous is None:
        return "no published PCA model yet"
    if "fit_run_id" not in previous:
        return "the published PCA model does not name its fit (made before the results recorded it)"
    if changes is None or "raw_images" not in previous:
        return "the published PCA model does not list the images it was fitted on (made before fits recorded them)"
    wanted = {name: getattr(settings, name) for name in FIT_SETTINGS}
    changed_settings = sorted(name for name in FIT_SETTINGS if previous["settings"].get(name) != wanted[name])
    reasons = [
        (previous["fingerprint"] != fingerprint, f"the model fingerprint changed ({previous['fingerprint']} -> "
                                                 f"{fingerprint})"),
        (previous["raw_images"] != raw_images, f"the input folder changed ({previous['raw_images']} -> {raw_images})"),
        (bool(changed_settings), f"PCA settings changed ({', '.join(f'pca.{name}' for name in changed_settings)})"),
        (settings.refit, "a refit was asked for (pca.refit)"),
        (full_refresh, "a full refresh was asked for (featurization.full_refresh)"),
        (sum(changes.values()) > settings.refit_growth * previous["fitted_on_images"],
         f"{describe_changes(changes, previous['fitted_on_images'])}: {sum(changes.values())} in all, more than "
         f"pca.refit_growth = {settings.refit_growth:.0%} of them"),
    ]
    return next((reason for applies, reason in reasons if applies), None)


def find_changed_images(
    image_sample_changes: TableChanges | None,
    new_features: DataFrame,
    feature_store: DataFrame,
    featurization_report: dict[str, Any],
    featurization_sources: dict[str, int | None],
    published_featurization_sources: dict[str, int | None],
    run_info: dict[str, Any],
) -> ChangedImages:
    """The images whose featurized state can differ from the published run's, by which the published count of
    changes since the fit (:func:`count_changes`) and the published results are kept current instead of comparing
    every image: the paths in the sample's recorded changes since its published version, with their sampled keys
    at both ends, and those this run wrote store rows for (their sample row unchanged: the same key at both ends),
    kept (few: Spark broadcasts them), with their featurized keys at the published versions and now.

    Both come from one scan of the store, kept once made (the PCA's count and the results both look them up): within
    a run the store only grows, by rows of this run's ``run_id`` (``featurize_images`` appends them; a run first
    restores the store to the version it read, and OPTIMIZE moves rows without changing them), so its published
    rows are its rows less this run's. None of that when the sample and store are as published or all featurized
    again, or the sample's changes are not recorded."""
    since, until = dict(published_featurization_sources), dict(featurization_sources)
    if (image_sample_changes is None or since.get("feature_store") is None
            or featurization_report["as_published"] or featurization_report["full_refresh"]):
        return ChangedImages(since, until)
    in_sample_changes = image_sample_changes.rows.select(
        "path", F.col("before.change_key").alias(SAMPLED_THEN), F.col("after.change_key").alias(SAMPLED_NOW))
    featurized_again = (new_features.select("path", "change_key").dropDuplicates(["path"])
                        .join(in_sample_changes, "path", "left_anti")
                        .select("path", F.col("change_key").alias(SAMPLED_THEN),
                                F.col("change_key").alias(SAMPLED_NOW)))
    changed = ChangedImages(since, until, materialized(in_sample_changes.unionByName(featurized_again)))
    store_rows = feature_store.drop("features").join(changed.paths.select("path"), "path", "left_semi").persist()
    published_rows = store_rows.where(~F.col("run_id").eqNullSafe(run_info["run_id"]))  # rows before run_id: null
    fingerprint = featurization_report["fingerprint"]
    return replace(changed, before=changed.featurized_in(published_rows, fingerprint, published=True),
                   after=changed.featurized_in(store_rows, fingerprint))


def count_changes(feature_store: DataFrame, image_sample: DataFrame, featurization_report: dict[str, Any],
                  previous_pca_fit: dict[str, Any] | None, previous_pca_fit_images: DataFrame | None,
                  changed_images: ChangedImages | None) -> tuple[dict[str, int] | None, str | None]:
    """The changes since the published fit, and how they were counted, the cheapest way that holds: the published
    count as it is (the sample and store as published); moved by the images changed since (``changed_images``) when
    the published record counted them at the published versions of the sample and the store (``counted_at``) for
    this model; else every featurized image compared with the fit's list. None when the published fit lists no
    images."""
    fingerprint = featurization_report["fingerprint"]
    if featurization_report["as_published"] and previous_pca_fit is not None:
        return previous_pca_fit["changes_since_fit"], "the published count (the sample and store as published)"
    if previous_pca_fit_images is None:
        return None, None
    if (changed_images is not None and changed_images.paths is not None and previous_pca_fit is not None
            and previous_pca_fit.get("counted_at") == changed_images.since
            and previous_pca_fit["fingerprint"] == fingerprint):
        moved = changes_moved(previous_pca_fit["changes_since_fit"], changed_images, previous_pca_fit_images)
        return moved, f"the published count, moved by the {changed_images.paths.count()} images changed since"
    return changes_since_fit(previous_pca_fit_images, featurized_keys(feature_store, image_sample, fingerprint)
                             .select(*IMAGE_KEY)), "every featurized image compared with the fit's"


def fit_pca(
    feature_store: DataFrame,
    image_sample: DataFrame,
    featurization_report: dict[str, Any],
    previous_pca_fit: dict[str, Any] | None,
    previous_pca_fit_images: DataFrame | None,
    changed_images: ChangedImages | None,
    settings: PcaParams,
    run_info: dict[str, Any],
) -> tuple[PipelineModel | Unchanged, np.ndarray | Unchanged, pd.DataFrame | Unchanged, dict[str, Any],
           TableChange | Unchanged]:
    """Refit (when :func:`refit_reason` says so) or keep the published model; the record says which and why, and
    the list of images a new fit describes is saved with it. The record's ``changes_since_fit`` (:func:`count_changes`)
    describe the versions of the sample and the store it names (``counted_at``: ``changed_images.until``), and
    ``counted_by`` says how they were counted.

    Besides the Spark ML model (what users load), its kept components are saved as a plain matrix: projecting a
    few new images then needs no Spark ML model load (several Spark jobs). ``fit_run_id`` names the fit: the
    results rows it projected carry it.
    """
    check_one_input(run_info, featurization_report=featurization_report.get("input"))
    fingerprint = featurization_report["fingerprint"]
    counted_at = changed_images.until if changed_images is not None else None
    changes, counted_by = count_changes(feature_store, image_sample, featurization_report, previous_pca_fit,
                                        previous_pca_fit_images, changed_images)
    reason = refit_reason(previous_pca_fit, fingerprint, changes, featurization_report["full_refresh"], settings,
                          run_info["raw_images"])
    if reason is None and previous_pca_fit is not None and changes is not None:
        record = {**previous_pca_fit, "refit": False, "changes_since_fit": changes, "counted_at": counted_at,
                  "counted_by": counted_by, "input": featurization_report.get("input"),
                  "reason": f"reused: {describe_changes(changes, previous_pca_fit['fitted_on_images'])} (at most "
                            f"pca.refit_growth = {settings.refit_growth:.0%} of them)"}
        logger.info("PCA model %s", record["reason"])
        return UNCHANGED, UNCHANGED, UNCHANGED, record, UNCHANGED
    logger.info("PCA refitted: %s", reason)
    featurized = featurized_keys(feature_store, image_sample, fingerprint)
    keys = featurized.select(*IMAGE_KEY)
    images = keys.count()
    chosen = fit_rows(featurized, images, settings.max_fit_rows, settings.seed)
    model, projection, curve, fitted_rows = fit(with_features(feature_store, chosen), settings)
    k = projection.shape[1]
    record = {
        "refit": True,
        "reason": reason,
        "fit_run_id": run_info["run_id"],
        "fingerprint": fingerprint,
        "settings": {name: getattr(settings, name) for name in FIT_SETTINGS},
        "raw_images": run_info["raw_images"],
        "input": featurization_report.get("input"),
        "fitted_on_images": images,
        "fit_rows": fitted_rows,
        "changes_since_fit": {"added": 0, "changed": 0, "left": 0},
        "counted_at": counted_at,
        "counted_by": "the fit",
        "k": k,
        "explained_variance": round(float(curve["cumulative"].iloc[k - 1]), 4),
    }
    return model, projection, curve, record, TableChange(add=keys, replace=True)
