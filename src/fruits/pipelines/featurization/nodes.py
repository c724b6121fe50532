"""Featurization: MobileNetV2 features for the sampled images the feature store does not hold yet.

The store is keyed by image URI, change key and model fingerprint, so a run featurizes only new or changed images,
and a new model re-featurizes everything by itself. The executors read the images' bytes themselves (concurrently
within a partition), so only the images to featurize are read, and no file name is ever parsed as a Hadoop path.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fruits.datasets.table import TableChange, TableChanges
from fruits.engines import ModelPayload
from fruits.featurizer import featurizer
from fruits.params import FeaturizationParams
from fruits.progress import Progress
from fruits.reuse import reuse_plan
from fruits.tables import IMAGE_KEY, SAMPLE_COLUMNS, is_retried, materialized

logger = logging.getLogger(__name__)


def choose_images_to_compare(
    image_sample: DataFrame,
    image_sample_changes: TableChanges | None,
    inference_model: ModelPayload,
    settings: FeaturizationParams,
    featurization_sources: dict[str, int | None],
    previous_featurization_report: dict[str, Any] | None,
    run_info: dict[str, Any],
) -> tuple[DataFrame, dict[str, Any]]:
    """The sampled images the plan looks for in the feature store, and which they are (``compare``):

    - ``none``: the sample and the store (``featurization_sources``: their versions) are those the published report
      found covered for this model (:func:`record_featurization`): every image is featurized;
    - ``changes``: the published sample was covered and the sample's changes since are recorded
      (``image_sample_changes``): only the images added or changed since (few: kept, so that Spark broadcasts them);
    - ``all``: every sampled image (and with ``full_refresh``, which featurizes them all again)."""
    coverage = (previous_featurization_report or {}).get("coverage")
    covered = reuse_plan(coverage_basis(featurization_sources, inference_model.fingerprint), coverage,
                         run_info["run_id"])
    images = image_sample.select(*SAMPLE_COLUMNS)
    if settings.full_refresh:
        return images, {"compare": "all"}
    if covered["reused"]:
        logger.info("The sample and the feature store are as run %s left them, every image featurized for this "
                    "model: nothing to compare", covered["made_by"])
        return images.where(F.lit(False)), {"compare": "none", "covered_by": covered["made_by"]}
    published_covered = coverage is not None and image_sample_changes is not None and coverage["basis"] == \
        coverage_basis({**coverage["basis"]["tables"], "sample": image_sample_changes.since},
                       inference_model.fingerprint)
    if published_covered:
        logger.info("The published sample was covered by run %s: only the images added or changed since are "
                    "compared", coverage["made_by"])
        changed = image_sample_changes.rows.where(F.col("after").isNotNull()).select("after.*")
        return materialized(changed.select(*SAMPLE_COLUMNS)), {"compare": "changes", "covered_by": coverage["made_by"]}
    return images, {"compare": "all"}


def plan_featurization(
    images_to_compare: DataFrame,
    comparison: dict[str, Any],
    listing_summary: dict[str, Any],
    feature_store: DataFrame,
    inference_model: ModelPayload,
    settings: FeaturizationParams,
) -> tuple[DataFrame, dict[str, Any]]:
    """The images to featurize (those whose key the store lacks, or all with ``full_refresh``), and the plan's
    counts for the report (with how the sample changed since the published one, from the listing). Only keys are
    compared, by a Spark anti-join of ``images_to_compare`` (:func:`choose_images_to_compare`) against the store: no
    image is read. An image that could not be read (a network error, a file being written) is tried again; one that
    could not be decoded is not. When only the images that changed are compared, the store's keys are first narrowed
    to theirs, broadcast into the store's scan: neither the sample nor the store is shuffled.

    ``as_published`` says that the sample is the published one and none of its images is featurized again: the
    published PCA record and results then hold for this run as they are, without a join to find it out."""
    todo = images_to_compare
    if comparison["compare"] == "none":
        return todo, plan_counts(0, listing_summary, inference_model, settings)
    if not settings.full_refresh:
        known = feature_store.where(
            (F.col("fingerprint") == inference_model.fingerprint) & ~is_retried(F.col("reject_kind"))
        ).select(*IMAGE_KEY)
        if comparison["compare"] == "changes":
            known = known.join(todo.select(*IMAGE_KEY), IMAGE_KEY, "left_semi")
        todo = todo.join(known, IMAGE_KEY, "left_anti")
    todo = todo.cache()
    return todo, plan_counts(todo.count(), listing_summary, inference_model, settings)


def coverage_basis(featurization_sources: dict[str, int | None], fingerprint: str) -> dict[str, Any]:
    """What a coverage is of: the versions of the sample and the store, and the model. One definition for the
    report that records it and the plan that compares with it, so the two cannot drift apart."""
    return {"tables": dict(featurization_sources), "fingerprint": fingerprint}


def plan_counts(to_featurize: int, listing_summary: dict[str, Any], inference_model: ModelPayload,
                settings: FeaturizationParams) -> dict[str, Any]:
    """The plan's record: how many images to featurize, of the sample and how it changed (from the listing)."""
    changes = listing_summary["sample_changes"]
    plan = {
        "fingerprint": inference_model.fingerprint,
        "engine": inference_model.engine,
        "image_size": inference_model.image_size,
        "full_refresh": settings.full_refresh,
        "sampled": listing_summary["sampled"],
        "to_featurize": to_featurize,
        "skipped": listing_summary["sampled"] - to_featurize,
        **changes,
        "as_published": (to_featurize == 0 and not settings.full_refresh and changes["unchanged"] > 0
                         and not any(changes[kind] for kind in ("new", "changed", "left_sample", "gone"))),
        "input": {**listing_summary.get("input", {}), "fingerprint": inference_model.fingerprint},
    }
    logger.info("%d of %d sampled images to featurize (%d new, %d changed, %d unchanged; since the last published "
                "run, %d left the sample but are still in the tree, %d are gone from the tree)%s", to_featurize,
                plan["sampled"], plan["new"], plan["changed"], plan["unchanged"], plan["left_sample"], plan["gone"],
                ": full refresh" if settings.full_refresh else "")
    return plan


def partition_count(images: int, cores: int, settings: FeaturizationParams) -> int:
    """Equal partitions, a multiple of the core count (no core idles in the last wave), none so large that a retry
    or a progress update waits long."""
    cores = max(1, cores)
    needed = max(cores * settings.tasks_per_core, math.ceil(images / settings.max_images_per_task))
    return max(1, min(images, math.ceil(needed / cores) * cores))


def featurize_images(
    images_to_featurize: DataFrame,
    featurization_plan: dict[str, Any],
    inference_model: ModelPayload,
    settings: FeaturizationParams,
    progress: Progress,
) -> TableChange:
    """Rows for the feature store (keyed by :data:`fruits.tables.STORE_KEY`): the images to featurize with their
    features or reject kind and detail, computed as the store's dataset writes them.

    The model is broadcast once; each Python worker builds it once. An accumulator counts the images done, for
    the progress log only: what was featurized is read back from the rows written.
    """
    context = images_to_featurize.sparkSession.sparkContext
    total = int(featurization_plan["to_featurize"])
    done = context.accumulator(0)
    if total == 0:
        return TableChange()
    partitions = partition_count(total, context.defaultParallelism, settings)
    logger.info("Featurizing %d images in %d tasks (%s engine, batches of %d)", total, partitions,
                inference_model.engine, settings.batch_size)
    progress.expect(total, done, unit="images")
    featurize = featurizer(context.broadcast(inference_model), inference_model, settings.threads_per_task,
                           settings.batch_size, done)
    featurized = images_to_featurize.repartition(partitions).select(
        *SAMPLE_COLUMNS, featurize(F.col("path")).alias("result")
    )
    return TableChange(add=featurized.select(
        *SAMPLE_COLUMNS,
        F.lit(inference_model.fingerprint).alias("fingerprint"),
        F.col("result.features").alias("features"),
        F.col("result.reject_kind").alias("reject_kind"),
        F.col("result.reject_detail").alias("reject_detail"),
        F.current_timestamp().alias("featurized_at"),
    ))


def record_featurization(new_features: DataFrame, featurization_plan: dict[str, Any],
                         featurization_sources: dict[str, int | None], run_info: dict[str, Any]) -> dict[str, Any]:
    """What the featurization did, counted on the store rows this run wrote (their ``reject_kind``): the plan plus
    featurized and rejected images, by kind, and the cores Spark ran them on (what `fruits-cloud` divides a cloud
    run's rate by).

    ``coverage``: when no image is left to try again (no read error), the store now holds every sampled image for
    this model, at the versions of the sample and the store this run leaves (``featurization_sources``); the next
    plan from those versions has nothing to compare. None otherwise.

    A plan with nothing to featurize wrote nothing: the store is not read to count it (no Spark job), unless the
    run was resumed: its interrupted attempt may have featurized images that this attempt's plan then found in the
    store, and they count as this run's, as if it had not been interrupted."""
    resumed = bool(run_info.get("resumed"))
    counts = new_features.groupBy("reject_kind").agg(
        F.count(F.lit(1)).alias("count"), F.max(is_retried(F.col("reject_kind"))).alias("retried")
    ).collect() if featurization_plan["to_featurize"] > 0 or resumed else []
    kinds = {row["reject_kind"]: row["count"] for row in counts}
    featurized = int(kinds.pop(None, 0))
    report = {
        **featurization_plan,
        "featurized": featurized,
        "rejected": sum(kinds.values()),
        "rejected_by_kind": {str(kind): int(count) for kind, count in sorted(kinds.items())},
        "images_inferred": featurized,
        "cores": new_features.sparkSession.sparkContext.defaultParallelism,
        "coverage": None if any(row["retried"] for row in counts) else {
            "basis": coverage_basis(featurization_sources, featurization_plan["fingerprint"]),
            "made_by": run_info["run_id"]},
    }
    written = featurized + report["rejected"]
    if written > featurization_plan["to_featurize"] and resumed:
        report.update(to_featurize=written, skipped=featurization_plan["sampled"] - written)
    if written != report["to_featurize"]:
        raise ValueError(f"{report['to_featurize']} images were to be featurized, but the feature store holds "
                         f"{written} rows of this run: nothing is published.")
    logger.info("Featurized %d images, rejected %d", featurized, report["rejected"])
    return report
