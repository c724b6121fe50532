"""Writes tests/fixtures/tiny_model.tflite: a TFLite model of a few dozen KB with the engine's contract (float32
pixels (batch, 96, 96, 3) in, float32 (batch, 1280) post-ReLU6 averages out), so that tests needing only that
contract run the real LiteRT predictor without TensorFlow or the real weights.

Run by hand when the contract changes (it imports TensorFlow; tests never do), then check the result with
tests/test_engines.py: ``PYTHONPATH=src python -m tests.support.make_fixture_model``. Seeded: the same TensorFlow
release writes the same file.
"""

from __future__ import annotations

import contextlib
import io
import os

from tests.support.paths import FIXTURE_FEATURES, FIXTURE_MODEL, FIXTURE_MODEL_SIZE


def tiny_model() -> bytes:
    """MobileNetV2's head in miniature: a strided 3x3 conv, a 1x1 conv to 1280 channels, ReLU6s, average pooling.

    The batch dimension stays dynamic, as in the converted MobileNetV2, so the predictor can resize it.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((FIXTURE_MODEL_SIZE, FIXTURE_MODEL_SIZE, 3)),
        keras.layers.Conv2D(8, 3, strides=4, activation="relu6"),
        keras.layers.Conv2D(FIXTURE_FEATURES, 1, activation="relu6"),
        keras.layers.GlobalAveragePooling2D(),
    ])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()


if __name__ == "__main__":
    content = tiny_model()
    FIXTURE_MODEL.write_bytes(content)
    print(f"{FIXTURE_MODEL}: {len(content):,} bytes")
