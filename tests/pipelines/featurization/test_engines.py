"""The fast engine must give Keras' features: same network, float32 TFLite conversion, no quantization."""

import numpy as np
import pytest

from fruits.datasets import MobileNetV2Dataset
from fruits.images import decode_image
from fruits.pipelines.featurization.engines import build_predictor, cached_predictor, export_model
from tests.conftest import MINI_SET


@pytest.fixture(scope="module")
def real_batch() -> np.ndarray:
    files = sorted(MINI_SET.rglob("*.jpg"))[::8]  # one image per class
    return np.stack([decode_image(path.read_bytes(), 224) for path in files])


def test_tflite_features_match_keras_on_real_images(real_weights, real_batch):
    model = MobileNetV2Dataset(weights=str(real_weights)).load()
    keras_features = build_predictor(export_model(model, "keras"), threads=2, batch_size=5)(real_batch)
    tflite_features = build_predictor(export_model(model, "tflite"), threads=2, batch_size=10)(real_batch)
    cosine = np.sum(keras_features * tflite_features, axis=1) / (
        np.linalg.norm(keras_features, axis=1) * np.linalg.norm(tflite_features, axis=1)
    )
    # Post-ReLU6 averages are in [0, 6]; float32 re-ordered sums differ by ~1e-6 relative.
    assert keras_features.shape == tflite_features.shape == (10, 1280)
    assert np.abs(keras_features - tflite_features).max() < 1e-3
    assert cosine.min() > 0.99999


def test_unknown_engine_is_refused(small_model):
    with pytest.raises(ValueError, match="Unknown inference engine 'onnx'"):
        export_model(small_model, "onnx")


def test_predictor_is_built_once_per_process(small_model):
    payload = export_model(small_model, "tflite")
    builds = []
    first = cached_predictor(lambda: payload, payload.fingerprint, 1, 2, on_build=lambda: builds.append(1))
    second = cached_predictor(lambda: payload, payload.fingerprint, 1, 2, on_build=lambda: builds.append(1))
    assert first is second
    assert builds == [1]
