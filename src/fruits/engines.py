"""Inference engines for the executors.

The driver exports the Keras model once (``export_model``) into a payload that is broadcast; each Python worker
turns the payload back into a predict function once (``cached_predictor``) and reuses it for every batch and task.

- ``keras``: the reference; payload = the weight arrays, rebuilt with ``weights=None`` + ``set_weights``.
- ``tflite``: the fast path; payload = a TFLite flatbuffer converted from the same Keras model, run by LiteRT
  with XNNPACK: several times faster than Keras per core, and only the small LiteRT runtime on the workers.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

Predictor = Callable[[np.ndarray], np.ndarray]  # uint8 RGB pixels (batch, size, size, 3) -> float32 features
ENGINES = ("keras", "tflite")
PIXEL_SCALE = np.float32(1 / 127.5)  # MobileNetV2 expects pixels in [-1, 1]


def to_model_input(pixels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """MobileNetV2's preprocessing (uint8 [0, 255] -> float32 [-1, 1]), written into ``out`` when given.

    Writing into the interpreter's own input buffer saves the per-image float copies, the stack and the padding.
    """
    out = np.empty(pixels.shape, dtype=np.float32) if out is None else out
    np.multiply(pixels, PIXEL_SCALE, out=out, casting="unsafe")
    out -= 1.0
    return out


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


def build_mobilenet_v2(image_size: int, weights: str | None) -> Any:
    """Build the headless MobileNetV2 with average pooling, the 1280-d transfer-learning feature extractor."""
    from keras.applications import MobileNetV2

    return MobileNetV2(input_shape=(image_size, image_size, 3), include_top=False, pooling="avg", weights=weights)


def _to_tflite(model: Any) -> bytes:
    """Convert with full float32 precision (no quantization), so features stay comparable with Keras'."""
    import tensorflow as tf

    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def build_predictor(payload: ModelPayload, threads: int, batch_size: int) -> Predictor:
    """Rebuild the network from its payload; one thread per Spark task is faster than tasks sharing threads."""
    if payload.engine == "keras":
        return _keras_predictor(payload, threads)
    return _tflite_predictor(payload, threads, batch_size)


def _keras_predictor(payload: ModelPayload, threads: int) -> Predictor:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        logger.debug("TensorFlow already initialised in this worker; keeping its thread settings")
    model = build_mobilenet_v2(payload.image_size, weights=None)
    model.set_weights(payload.blob)
    return lambda pixels: np.asarray(model.predict_on_batch(to_model_input(pixels)), dtype=np.float32)


def _tflite_predictor(payload: ModelPayload, threads: int, batch_size: int) -> Predictor:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=payload.blob, num_threads=threads)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, [batch_size, payload.image_size, payload.image_size, 3])
    interpreter.allocate_tensors()

    def predict(pixels: np.ndarray) -> np.ndarray:
        """Scale the pixels into the interpreter's input buffer and run it.

        A last, shorter batch runs at the allocated size (re-allocating tensors costs more) and only its own rows
        are returned; the view of the buffer is dropped before ``invoke``, as LiteRT requires.
        """
        rows = len(pixels)
        buffer = interpreter.tensor(input_index)()
        to_model_input(pixels, out=buffer[:rows])
        del buffer
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
