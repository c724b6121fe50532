"""Image loading: label each image with its class folder and spread the images over all cores."""

from __future__ import annotations

import logging
import math

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fruits.tables import parent_folder_name

logger = logging.getLogger(__name__)


def with_labels(files: DataFrame) -> DataFrame:
    """``path``, ``label``, ``content`` from a binaryFile DataFrame."""
    return files.select("path", parent_folder_name(F.col("path")).alias("label"), "content")


def partition_count(image_count: int, cores: int, tasks_per_core: int, max_images_per_partition: int) -> int:
    """Enough equal partitions for every core to stay busy to the end, none so big that a retry is costly.

    A multiple of the core count, so that the last wave of tasks leaves no core idle.
    """
    cores = max(1, cores)
    needed = max(cores * tasks_per_core, math.ceil(image_count / max(1, max_images_per_partition)))
    return max(1, min(image_count, math.ceil(needed / cores) * cores))


def load_images(raw_images: DataFrame, image_sample: DataFrame, settings: dict[str, int]) -> tuple[DataFrame, int]:
    """The sampled images with their bytes, spread over equal partitions, and their count (checked at the end).

    A sampled image that is no longer in the raw tree is an error, not a silent loss. Hash partitioning on the
    path, not round-robin: round-robin sorts every row (image bytes included) first.
    """
    sampled = with_labels(raw_images).join(image_sample.select("path"), "path", "left_semi")
    image_count, sample_count = sampled.count(), image_sample.count()
    if image_count != sample_count:
        raise ValueError(
            f"{sample_count - image_count} of the {sample_count} sampled images are no longer in raw_images "
            "(moved or deleted since sampling): run the sampling pipeline again."
        )
    partitions = partition_count(
        image_count,
        raw_images.sparkSession.sparkContext.defaultParallelism,
        settings["tasks_per_core"],
        settings["max_images_per_partition"],
    )
    logger.info("Loaded %d images into %d partitions", image_count, partitions)
    return sampled.repartition(partitions, "path"), image_count
