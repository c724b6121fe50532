"""Output: the results table (the PCA projection of every featurized image of the sample, its features' store key
beside it) kept current by changes, the rejects table (every image that gave no features, with the kind of reject
and its detail), and the accounting of every listed file that gates publication."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import ArrayType, FloatType

from fruits.changes import ChangedImages
from fruits.datasets.run import UNCHANGED, Unchanged
from fruits.datasets.table import TableChange
from fruits.provenance import check_one_input
from fruits.reuse import reuse_plan
from fruits.tables import IMAGE_KEY, REJECTED, RESULTS, featurized_keys, live_keys, materialized, with_features

logger = logging.getLogger(__name__)

REJECT_COLUMNS = ["path", "label", "reject_kind", "reject_detail"]


def project(features: DataFrame, pca_components: np.ndarray, fit_run_id: str) -> DataFrame:
    """Results rows: the store key of each image's features and their projection on the PCA model's kept components
(the vectors themselves stay in the store).

    ``features @ components`` is one matrix product per Arrow batch, where Spark ML's transform goes row by row
    through three vector UDFs; tests check both give the same numbers.
    """
    components = features.sparkSession.sparkContext.broadcast(pca_components)

    @pandas_udf(ArrayType(FloatType()))
    def projected(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        matrix = components.value
        for vectors in batches:
            values = (np.stack(vectors.to_numpy()).astype(np.float64) @ matrix).astype(np.float32)
            yield pd.Series(list(values), index=vectors.index)

    return features.select("path", "label", "change_key", "fingerprint", projected("features").alias("pca_features"),
                           F.lit(fit_run_id).alias("pca_run_id"))


def results_change(featurized: DataFrame, results_index: DataFrame, fit_run_id: str) -> DataFrame:
    """Where the results and the featurized images (``featurized``) differ, from one join on the key columns:
    ``add`` marks the images the results lack a row of this PCA fit for, ``remove`` the results rows to take out
    (images no longer live: changed or deleted; and rows another fit projected). The results are compared with
    themselves, so a run of single pipelines in between cannot lose rows. Nothing reaches the driver."""
    live = featurized.select(*IMAGE_KEY, "featurized_at", "run_id", F.lit(True).alias("live"))
    index = results_index.select(*IMAGE_KEY, (F.col("pca_run_id") == fit_run_id).alias("current"))
    is_live, is_current = F.coalesce(F.col("live"), F.lit(False)), F.coalesce(F.col("current"), F.lit(False))
    return live.join(index, IMAGE_KEY, "full_outer").where(~(is_live & is_current)).select(
        *IMAGE_KEY, "featurized_at", "run_id", is_live.alias("add"), F.col("current").isNotNull().alias("remove"))


def update_results(
    feature_store: DataFrame,
    results_index: DataFrame,
    image_sample: DataFrame,
    pca_components: np.ndarray,
    pca_fit: dict[str, Any],
    featurization_report: dict[str, Any],
    changed_images: ChangedImages,
    previous_results_basis: dict[str, Any] | None,
) -> tuple[TableChange | Unchanged, dict[str, Any] | None]:
    """The change to the results, and what they then describe (``results_basis``: the versions of the sample and
    the store, and the PCA fit). Everything is re-projected after a refit, a full refresh or when the table has
    another layout's columns (results that copied the features); otherwise the images the results lack are
    projected with the published model, and the rows of changed and deleted images removed (a MERGE). A run whose
    sample and store are as published (``as_published``) changes nothing and reads nothing. When the published
    results describe the published versions and the same fit, only the images changed since
    (``changed_images``) are compared, their keys broadcast into scans; otherwise every featurized image is, in
    one join. What changed is kept for the save (it is small), counted in one aggregation, and only the store
    files of the runs that featurized the images to add are read."""
    fingerprint, fit_run_id = featurization_report["fingerprint"], pca_fit["fit_run_id"]
    basis = {"tables": changed_images.until, "fit_run_id": fit_run_id}
    other_layout = results_index.columns != RESULTS.names
    if pca_fit["refit"] or featurization_report["full_refresh"] or other_layout:
        rows = with_features(feature_store, featurized_keys(feature_store, image_sample, fingerprint))
        return TableChange(add=project(rows, pca_components, fit_run_id), replace=True), basis
    if featurization_report["as_published"]:
        return UNCHANGED, previous_results_basis  # the results describe what they described
    if changed_images.paths is not None and previous_results_basis == {**basis, "tables": changed_images.since}:
        featurized = changed_images.after
        results_index = results_index.join(changed_images.paths, "path", "left_semi")
    else:
        featurized = featurized_keys(feature_store, image_sample, fingerprint)
    changes = results_change(featurized, results_index, fit_run_id).persist()
    counted = changes.agg(F.count(F.when(F.col("remove"), 1)).alias("removed"),
                          F.collect_set(F.when(F.col("add"), F.col("run_id"))).alias("runs")).first()
    runs = sorted(counted["runs"])  # the runs that featurized the images to add; none: nothing to add
    added = changes.where(F.col("add"))
    add = project(with_features(feature_store, added, runs), pca_components, fit_run_id) if runs else None
    remove = changes.where(F.col("remove")).select("path") if counted["removed"] else None
    return TableChange(add=add, remove=remove), basis


def collect_rejects(image_manifest: DataFrame, feature_store: DataFrame, image_sample: DataFrame,
                    featurization_report: dict[str, Any], rejects_sources: dict[str, int | None],
                    previous_rejects_plan: dict[str, Any] | None,
                    run_info: dict[str, Any]) -> tuple[TableChange | Unchanged, dict[str, Any]]:
    """Every image of the tree that gave no features, with the kind of reject: images outside any class folder (the
    listing's detail is their kind), and the sampled images the network could not take (from the store, whichever
    run tried them). Merged into the table by path: only rejects that came, changed or went are written.

    The rejects are made from the listing, the sample and the store (``rejects_sources``: their versions) and the
    model's fingerprint; the plan (:func:`fruits.reuse.reuse_plan`) keeps the published rejects, reading nothing,
    when those are what they were made from."""
    basis = {"tables": dict(rejects_sources), "fingerprint": featurization_report["fingerprint"]}
    plan = reuse_plan(basis, previous_rejects_plan, run_info["run_id"])
    if plan["reused"]:
        return UNCHANGED, plan
    listed = image_manifest.where(F.col("status") == REJECTED).select(
        "path", "label", F.col("detail").alias("reject_kind"), F.lit(None).cast("string").alias("reject_detail"))
    failed = rejected_images(feature_store, image_sample, featurization_report["fingerprint"])
    return TableChange(sync=listed.unionByName(failed.select(*REJECT_COLUMNS))), plan


def rejected_images(feature_store: DataFrame, image_sample: DataFrame, fingerprint: str) -> DataFrame:
    """The :func:`fruits.tables.live_keys` of the sampled images whose newest row of this model is a reject. Only an
    image with a reject row can be one: those keys are found first (Delta skips the store files without a reject by
    their null counts), then the sampled ones among them. Each is kept once computed, so that Spark plans the next
    join from its real size and broadcasts it when it is small (rejects are rare), scanning the sample and the
    store instead of shuffling them."""
    ever_rejected = feature_store.where((F.col("fingerprint") == fingerprint) & F.col("reject_kind").isNotNull())
    keys = materialized(ever_rejected.select(*IMAGE_KEY).distinct())
    sampled = materialized(image_sample.select(*IMAGE_KEY).join(keys, IMAGE_KEY, "left_semi"))
    return live_keys(feature_store, sampled, fingerprint).where(F.col("reject_kind").isNotNull())


def account_for_files(listing_summary: dict[str, Any], featurization_report: dict[str, Any],
                      run_info: dict[str, Any]) -> dict[str, Any]:
    """Every listed file is accounted for once, from a listing and a featurization of the input this run is given:
    the gate before reporting and publication (the run fails, and publishes nothing, otherwise)."""
    check_one_input(run_info, listing=listing_summary.get("input"),
                    featurization_report=featurization_report.get("input"))
    counts = {
        "input": featurization_report.get("input"),
        "listed": int(listing_summary["listed"]),
        "ignored": int(listing_summary["ignored"]),
        "ignored_by_kind": dict(listing_summary["ignored_by_kind"]),
        "not_sampled": int(listing_summary["images"]) - int(featurization_report["sampled"]),
        "skipped": int(featurization_report["skipped"]),
        "featurized": int(featurization_report["featurized"]),
        "rejected": int(listing_summary["listing_rejected"]) + int(featurization_report["rejected"]),
    }
    parts = ("ignored", "not_sampled", "skipped", "featurized", "rejected")
    accounted = sum(counts[part] for part in parts)
    if accounted != counts["listed"]:
        raise ValueError(
            f"{counts['listed']} files were listed but {accounted} are accounted for (ignored {counts['ignored']} + "
            f"not sampled {counts['not_sampled']} + skipped {counts['skipped']} + featurized {counts['featurized']} "
            f"+ rejected {counts['rejected']}): nothing is published."
        )
    return counts
