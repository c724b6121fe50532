"""Featurization: MobileNetV2 features for the sampled images the feature store does not hold yet.

The store is keyed by image URI, change key and model fingerprint, so a run featurizes only new or changed images,
and a new model re-featurizes everything by itself. The executors read the images' bytes themselves (concurrently
within a partition), so only the images to featurize are read, and no file name is ever parsed as a Hadoop path.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pandas as pd
from pyspark import Accumulator
from pyspark.sql import functions as F

from fruits import progress
from fruits.datasets.table import TableChange
from fruits.engines import ModelPayload
from fruits.featurizer import featurizer
from fruits.params import FeaturizationParams
from fruits.rejects import is_retried
from fruits.spark import active_spark
from fruits.tables import IGNORED, IMAGE, IMAGE_KEY, REJECTED

logger = logging.getLogger(__name__)

TODO_COLUMNS = ["path", "relative_path", "label", "change_key"]
TODO_SCHEMA = "path string, relative_path string, label string, change_key string"


def compare_samples(sample: pd.DataFrame, previous: pd.DataFrame | None) -> dict[str, int]:
    """How this run's sample differs from the published one: new, changed, deleted and unchanged images."""
    previous = previous if previous is not None else pd.DataFrame(columns=IMAGE_KEY)
    both = sample[IMAGE_KEY].merge(previous[IMAGE_KEY], on="path", how="outer", suffixes=("", "_before"),
                                   indicator=True)
    kept = both["_merge"] == "both"
    return {
        "new": int((both["_merge"] == "left_only").sum()),
        "changed": int((kept & (both["change_key"] != both["change_key_before"])).sum()),
        "deleted": int((both["_merge"] == "right_only").sum()),
        "unchanged": int((kept & (both["change_key"] == both["change_key_before"])).sum()),
    }


def listing_counts(manifest: pd.DataFrame) -> dict[str, Any]:
    """What the listing found: files, ignored ones by kind, rejected ones, images in class folders."""
    status = manifest["status"]
    return {
        "listed": len(manifest),
        "ignored": int((status == IGNORED).sum()),
        "ignored_by_kind": {str(kind): int(count) for kind, count in
                            manifest.loc[status == IGNORED, "detail"].value_counts().items()},
        "listing_rejected": int((status == REJECTED).sum()),
        "images": int((status == IMAGE).sum()),
    }


def plan_featurization(
    image_manifest: pd.DataFrame,
    image_sample: pd.DataFrame,
    previous_image_sample: pd.DataFrame | None,
    feature_store_index: pd.DataFrame,
    inference_model: ModelPayload,
    settings: FeaturizationParams,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The images to featurize (those whose key the store lacks, or all with ``full_refresh``), and the plan's
    counts for the report. Only keys are compared, on the driver: no image is read. An image that could not be
    read (a network error, a file being written) is tried again; one that could not be decoded is not."""
    todo = image_sample[TODO_COLUMNS]
    if not settings.full_refresh:
        current = feature_store_index["fingerprint"] == inference_model.fingerprint
        retried = is_retried(feature_store_index["reject_kind"])
        known = feature_store_index.loc[current & ~retried, IMAGE_KEY].drop_duplicates()
        marked = todo.merge(known, on=IMAGE_KEY, how="left", indicator=True)
        todo = marked.loc[marked["_merge"] == "left_only", TODO_COLUMNS].reset_index(drop=True)
    to_featurize = len(todo)
    plan = {
        **listing_counts(image_manifest),
        "fingerprint": inference_model.fingerprint,
        "engine": inference_model.engine,
        "image_size": inference_model.image_size,
        "full_refresh": settings.full_refresh,
        "sampled": len(image_sample),
        "to_featurize": to_featurize,
        "skipped": len(image_sample) - to_featurize,
        **compare_samples(image_sample, previous_image_sample),
    }
    logger.info("%d of %d sampled images to featurize (%d new, %d changed, %d unchanged; %d deleted since the "
                "last published run)%s", to_featurize, len(image_sample), plan["new"], plan["changed"],
                plan["unchanged"], plan["deleted"], ": full refresh" if settings.full_refresh else "")
    return todo, plan


def partition_count(images: int, cores: int, settings: FeaturizationParams) -> int:
    """Equal partitions, a multiple of the core count (no core idles in the last wave), none so large that a retry
    or a progress update waits long."""
    cores = max(1, cores)
    needed = max(cores * settings.tasks_per_core, math.ceil(images / settings.max_images_per_task))
    return max(1, min(images, math.ceil(needed / cores) * cores))


def featurize_images(
    images_to_featurize: pd.DataFrame,
    inference_model: ModelPayload,
    settings: FeaturizationParams,
) -> tuple[TableChange, dict[str, Accumulator]]:
    """Rows for the feature store: the images to featurize with their features or reject kind and detail.

    The model is broadcast once; each Python worker builds it once. Counters (images through the network, models
    built) are read after the rows are written, to prove each image went through the network once.
    """
    spark = active_spark()
    context = spark.sparkContext
    counters = {name: context.accumulator(0) for name in ("images_done", "images_inferred", "models_built")}
    total = len(images_to_featurize)
    compact = settings.compact_above_files
    if total == 0:
        return TableChange(compact_above_files=compact), counters
    partitions = partition_count(total, context.defaultParallelism, settings)
    logger.info("Featurizing %d images in %d tasks (%s engine, batches of %d)", total, partitions,
                inference_model.engine, settings.batch_size)
    progress.expect(total, counters["images_done"], unit="images")
    featurize = featurizer(context.broadcast(inference_model), inference_model, settings.threads_per_task,
                           settings.batch_size, counters)
    todo = spark.createDataFrame(images_to_featurize[TODO_COLUMNS], TODO_SCHEMA)
    featurized = todo.repartition(partitions).select(
        *TODO_COLUMNS, featurize(F.col("path")).alias("result")
    )
    rows = featurized.select(
        *TODO_COLUMNS,
        F.lit(inference_model.fingerprint).alias("fingerprint"),
        F.col("result.features").alias("features"),
        F.col("result.reject_kind").alias("reject_kind"),
        F.col("result.reject_detail").alias("reject_detail"),
        F.current_timestamp().alias("featurized_at"),
    )
    return TableChange(add=rows, compact_above_files=compact), counters


def record_featurization(new_features: pd.DataFrame, featurization_plan: dict[str, Any],
                         featurization_counters: dict[str, Accumulator]) -> dict[str, Any]:
    """What the featurization did, read back from the rows it wrote (their ``reject_kind``), with the counters
    of the job that wrote them (final now): the plan plus featurized, rejected by kind, inferences, model builds."""
    kinds = new_features["reject_kind"].dropna().value_counts()
    featurized = int(new_features["reject_kind"].isna().sum())
    report = {
        **featurization_plan,
        "featurized": featurized,
        "rejected": int(kinds.sum()),
        "rejected_by_kind": {str(kind): int(count) for kind, count in sorted(kinds.items())},
        "images_inferred": int(featurization_counters["images_inferred"].value),
        "models_built": int(featurization_counters["models_built"].value),
    }
    if report["images_inferred"] != featurized:
        logger.warning("The network ran %d times for %d featurized images: some work was recomputed.",
                       report["images_inferred"], featurized)
    logger.info("Featurized %d images, rejected %d (%d models built on the workers)", featurized,
                report["rejected"], report["models_built"])
    return report
