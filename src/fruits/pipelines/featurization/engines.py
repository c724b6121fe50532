"""Inference engines for the executors.

The driver exports the Keras model once (``export_model``) into a payload that is broadcast; each Python worker
turns the payload back into a predict function once (``cached_predictor``) and reuses it for every batch and task.

- ``keras``: the reference; payload = the weight arrays, rebuilt with ``weights=None`` + ``set_weights``.
- ``tflite``: the fast path; payload = a TFLite flatbuffer converted from the same Keras model, run by LiteRT
  with XNNPACK (measured 2x Keras per core on this project's hardware, see README "Performance").
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

Predictor = Callable[[np.ndarray], np.ndarray]
ENGINES = ("keras", "tflite")


@dataclass(frozen=True)
class ModelPayload:
    """What is broadcast to executors: everything needed to rebuild the network, nothing more."""

    engine: str
    image_size: int
    blob: Any
    fingerprint: str


def export_model(model: Any, engine: str) -> ModelPayload:
    """Turn the driver's Keras model into a broadcastable payload for ``engine``."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown inference engine {engine!r}: choose one of {', '.join(ENGINES)}.")
    image_size = int(model.input_shape[1])
    blob = model.get_weights() if engine == "keras" else _to_tflite(model)
    digest = hashlib.sha256(engine.encode())
    for part in blob if engine == "keras" else [blob]:
        digest.update(np.ascontiguousarray(part).tobytes() if engine == "keras" else part)
    return ModelPayload(engine=engine, image_size=image_size, blob=blob, fingerprint=digest.hexdigest()[:16])


def _to_tflite(model: Any) -> bytes:
    """Convert with full float32 precision (no quantization), so features stay comparable with Keras'."""
    import tensorflow as tf  # noqa: PLC0415

    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def build_predictor(payload: ModelPayload, threads: int, batch_size: int) -> Predictor:
    """Rebuild the network from its payload; one thread per Spark task is faster than tasks sharing threads."""
    if payload.engine == "keras":
        return _keras_predictor(payload, threads)
    return _tflite_predictor(payload, threads, batch_size)


def _keras_predictor(payload: ModelPayload, threads: int) -> Predictor:
    import tensorflow as tf  # noqa: PLC0415

    from fruits.datasets.mobilenet import build_mobilenet_v2  # noqa: PLC0415

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        logger.debug("TensorFlow already initialised in this worker; keeping its thread settings")
    model = build_mobilenet_v2(payload.image_size, weights=None)
    model.set_weights(payload.blob)
    return lambda batch: np.asarray(model.predict_on_batch(batch), dtype=np.float32)


def _tflite_predictor(payload: ModelPayload, threads: int, batch_size: int) -> Predictor:
    from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415

    interpreter = Interpreter(model_content=payload.blob, num_threads=threads)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, [batch_size, payload.image_size, payload.image_size, 3])
    interpreter.allocate_tensors()

    def predict(batch: np.ndarray) -> np.ndarray:
        """Pad the last, shorter batch to the allocated size: re-allocating tensors costs more than padding."""
        rows = len(batch)
        padded = np.zeros((batch_size, *batch.shape[1:]), dtype=np.float32)
        padded[:rows] = batch
        interpreter.set_tensor(input_index, padded)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)[:rows].copy()

    return predict


_PREDICTORS: dict[tuple[str, int, int], Predictor] = {}


def cached_predictor(payload_source: Callable[[], ModelPayload], fingerprint: str, threads: int, batch_size: int,
                     on_build: Callable[[], None]) -> Predictor:
    """One predictor per Python worker process: Spark reuses workers across tasks, so the model is built once."""
    key = (fingerprint, threads, batch_size)
    if key not in _PREDICTORS:
        _PREDICTORS[key] = build_predictor(payload_source(), threads, batch_size)
        on_build()
    return _PREDICTORS[key]
