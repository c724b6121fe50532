"""The network and its inference engines, shared by the driver (export), the executors (predict) and the benchmark.

The driver turns the pretrained weights into a payload once (bytes, cached on disk by the ``inference_model``
dataset); it is broadcast; each Python worker turns it back into a predict function once (``cached_predictor``)
and reuses it for every batch and task.

- ``tflite`` (default): a float32 TFLite flatbuffer converted from the Keras model, run by LiteRT with XNNPACK:
  several times faster than Keras per core, and only the small LiteRT runtime on the workers.
- ``keras``: the reference; the payload is the weights file itself, loaded into Keras' MobileNetV2 on the workers.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

Predictor = Callable[[np.ndarray], np.ndarray]  # uint8 RGB pixels (batch, size, size, 3) -> float32 features
ENGINES = ("tflite", "keras")
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
    blob: bytes
    fingerprint: str


def model_fingerprint(weights_sha256: str, engine: str, image_size: int) -> str:
    """Identifies the features a model produces: the same weights, engine and input size give the same vectors.

    Part of every feature-store key: a new fingerprint re-featurizes everything by itself.
    """
    return hashlib.sha256(f"{weights_sha256}|{engine}|{image_size}".encode()).hexdigest()[:16]


def converter_version() -> str:
    """The TensorFlow release that converts to TFLite (part of the conversion cache key), without importing it."""
    for distribution in ("tensorflow-cpu", "tensorflow"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return f"tf{metadata.version(distribution)}"
    return "tf-unknown"


def build_mobilenet_v2(image_size: int, weights: str | None) -> Any:
    """The headless MobileNetV2 with average pooling: the 1280-d transfer-learning feature extractor."""
    from keras.applications import MobileNetV2

    return MobileNetV2(input_shape=(image_size, image_size, 3), include_top=False, pooling="avg", weights=weights)


def convert_to_tflite(weights_file: str, image_size: int) -> bytes:
    """Keras model -> float32 TFLite flatbuffer (no quantization: features stay Keras' within float rounding).

    The converter prints a line per tensor spec; that noise is kept out of the run's log.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    model = build_mobilenet_v2(image_size, weights_file)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def build_predictor(payload: ModelPayload, threads: int, batch_size: int) -> Predictor:
    """Rebuild the network from its payload; one thread per Spark task is faster than tasks sharing threads."""
    if payload.engine == "keras":
        return _keras_predictor(payload, threads)
    return _tflite_predictor(payload, threads, batch_size)


def _keras_predictor(payload: ModelPayload, threads: int) -> Predictor:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        logger.debug("TensorFlow already initialised in this worker; keeping its thread settings")
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, "weights.h5")
        with open(weights, "wb") as file:
            file.write(payload.blob)
        model = build_mobilenet_v2(payload.image_size, weights)
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
                     on_build: Callable[[], None] | None = None) -> Predictor:
    """One predictor per Python worker process: Spark reuses workers across tasks, so the model is built once."""
    key = (fingerprint, threads, batch_size)
    if key not in _PREDICTORS:
        _PREDICTORS[key] = build_predictor(payload_source(), threads, batch_size)
        if on_build is not None:
            on_build()
    return _PREDICTORS[key]
