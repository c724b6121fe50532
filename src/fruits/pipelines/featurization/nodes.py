"""Featurization: MobileNetV2 transfer-learning features for every image, undecodable images as rejects."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pyspark import Accumulator
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf
from pyspark.sql.types import ArrayType, FloatType, StringType, StructField, StructType

from fruits.engines import ModelPayload, Predictor, cached_predictor, export_model
from fruits.images import ImageRejected, decode_image

logger = logging.getLogger(__name__)

FEATURE_RESULT = StructType(
    [StructField("features", ArrayType(FloatType())), StructField("error", StringType())]
)


def featurize_batch(contents: pd.Series, predict: Predictor, image_size: int, batch_size: int) -> pd.DataFrame:
    """Features for the decodable images of one Arrow batch, a reason for the others (row order kept).

    Images are decoded ``batch_size`` at a time into one reused uint8 buffer, so a worker holds one inference
    batch of pixels, not a whole Arrow batch (256 images at 224² are 150 MB as float32).
    """
    features: list[np.ndarray | None] = [None] * len(contents)
    errors: list[str | None] = [None] * len(contents)
    pixels = np.empty((batch_size, image_size, image_size, 3), dtype=np.uint8)
    for start in range(0, len(contents), batch_size):
        rows: list[int] = []
        for row in range(start, min(start + batch_size, len(contents))):
            try:
                pixels[len(rows)] = decode_image(contents.iloc[row], image_size)
                rows.append(row)
            except ImageRejected as rejected:
                errors[row] = str(rejected)
        if rows:
            for row, vector in zip(rows, predict(pixels[: len(rows)]), strict=True):
                features[row] = vector
    return pd.DataFrame({"features": features, "error": errors})


def _featurizer_column(content: Column, payload_broadcast: Any, fingerprint: str, image_size: int,
                       settings: dict[str, Any], inferred: Accumulator, built: Accumulator) -> Column:
    """Build the iterator pandas UDF at run time (declared with DataType objects, never at import)."""
    threads = int(settings["threads_per_task"])
    batch_size = int(settings["batch_size"])

    @pandas_udf(FEATURE_RESULT)
    def featurize(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        predict = cached_predictor(lambda: payload_broadcast.value, fingerprint, threads, batch_size,
                                   on_build=lambda: built.add(1))
        for contents in batches:
            result = featurize_batch(contents, predict, image_size, batch_size)
            inferred.add(int(result["error"].isna().sum()))
            yield result

    return featurize(content)


def export_inference_model(model: Any, settings: dict[str, Any]) -> ModelPayload:
    """Convert the pretrained model once, on the driver, into what the executors run (its own stage: the TFLite
    conversion takes seconds, independent of the number of images)."""
    payload = export_model(model, settings["engine"])
    logger.info("Exported MobileNetV2 for %s (%s, %d px)", payload.engine, payload.fingerprint, payload.image_size)
    return payload


def featurize_images(
    images: DataFrame, inference_model: ModelPayload, settings: dict[str, Any]
) -> tuple[DataFrame, dict]:
    """Apply the exported MobileNetV2 to every image; it is broadcast once to the executors.

    Returns the lazily computed table (``path``, ``label``, ``features`` or ``error``) and counters that the
    report reads after the run: images through the network, models built by Python workers.
    """
    context = images.sparkSession.sparkContext
    counters = {"images_inferred": context.accumulator(0), "models_built": context.accumulator(0)}
    result = _featurizer_column(
        F.col("content"), context.broadcast(inference_model), inference_model.fingerprint, inference_model.image_size,
        settings, counters["images_inferred"], counters["models_built"],
    )
    table = images.select("path", "label", result.alias("result")).select(
        "path", "label", F.col("result.features").alias("features"), F.col("result.error").alias("error")
    )
    return table, counters
