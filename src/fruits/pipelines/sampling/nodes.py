"""Sampling: a reproducible stratified sample of the raw image tree, as a manifest of paths (no image bytes)."""

from __future__ import annotations

import logging
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from fruits.tables import file_name, parent_folder_name

logger = logging.getLogger(__name__)

STRATEGIES = ("all", "per_class", "total")


def allocate_quotas(class_sizes: dict[str, int], total: int) -> dict[str, int]:
    """Spread ``total`` equally over classes; a class too small for its share hands the rest to the others.

    Leftover units after the equal split go to the classes with the most images left, ties by name, so the
    result is deterministic.
    """
    quotas = dict.fromkeys(class_sizes, 0)
    remaining = min(total, sum(class_sizes.values()))
    open_classes = sorted(name for name, size in class_sizes.items() if size > 0)
    while remaining > 0 and open_classes:
        share = remaining // len(open_classes)
        if share == 0:
            by_room = sorted(open_classes, key=lambda name: (quotas[name] - class_sizes[name], name))
            for name in by_room[:remaining]:
                quotas[name] += 1
            break
        for name in open_classes:
            granted = min(share, class_sizes[name] - quotas[name])
            quotas[name] += granted
            remaining -= granted
        open_classes = [name for name in open_classes if quotas[name] < class_sizes[name]]
    return quotas


def class_quotas(class_sizes: dict[str, int], settings: dict[str, Any]) -> dict[str, int]:
    """Images to keep per class for the configured strategy: ``all``, ``per_class`` (N each) or ``total`` (N)."""
    strategy = settings["strategy"]
    if strategy == "all":
        return dict(class_sizes)
    size = settings.get("size")
    if not isinstance(size, int) or size < 0:
        raise ValueError(f"sampling.size must be a whole number >= 0 for strategy {strategy!r}, got {size!r}.")
    if strategy == "per_class":
        return {name: min(size, count) for name, count in class_sizes.items()}
    if strategy == "total":
        return allocate_quotas(class_sizes, size)
    raise ValueError(f"Unknown sampling.strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}.")


def stratified_sample(raw_images: DataFrame, settings: dict[str, Any]) -> DataFrame:
    """The sample as a manifest (``path``, ``label``): each class's quota, chosen by a seeded hash.

    Only paths are read and ranked here: the image bytes are read once, by image loading, and never copied. The
    hash of (class, file name, seed) does not depend on where the tree lives or how Spark partitions it, so the
    same seed picks the same files locally and on S3. Only the per-class counts reach the driver.
    """
    labelled = raw_images.select("path", parent_folder_name(F.col("path")).alias("label"))
    sizes = {row["label"]: row["count"] for row in labelled.groupBy("label").count().collect()}
    if not sizes:
        raise ValueError("The raw image folder holds no .jpg/.jpeg/.png images.")
    quotas = class_quotas(sizes, settings)
    logger.info(
        "Sampling %d of %d images over %d classes (strategy %s)",
        sum(quotas.values()), sum(sizes.values()), len(sizes), settings["strategy"],
    )
    if settings["strategy"] == "all":
        return labelled
    quota_table = raw_images.sparkSession.createDataFrame(list(quotas.items()), "label string, quota int")
    order = Window.partitionBy("label").orderBy(
        F.xxhash64("label", file_name(F.col("path")), F.lit(settings["seed"])), "path"
    )
    return (
        labelled.join(F.broadcast(quota_table), "label")
        .withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= F.col("quota"))
        .select("path", "label")
    )
