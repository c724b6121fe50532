"""The fast engine must give Keras' features: same network, float32 TFLite conversion, no quantization."""

from pathlib import Path

import numpy as np
import pytest

from devkit.paths import MINI_SET
from fruits.datasets.inference_model import InferenceModelDataset
from fruits.engines import ModelPayload, build_predictor, cached_predictor, to_model_input
from fruits.images import decode_image
from tests.support.paths import FIXTURE_FEATURES


@pytest.fixture(scope="module")
def real_batch() -> np.ndarray:
    files = sorted(MINI_SET.rglob("*.jpg"))[::8]  # one image per class
    return np.stack([decode_image(path.read_bytes(), 224) for path in files])


def test_tflite_features_match_keras_on_real_images(real_weights: Path, real_batch: np.ndarray, tmp_path: Path):
    keras_model = InferenceModelDataset(weights=str(real_weights), engine="keras", path=str(tmp_path)).load()
    tflite_model = InferenceModelDataset(weights=str(real_weights), engine="tflite", path=str(tmp_path)).load()
    keras_features = build_predictor(keras_model, threads=2, batch_size=5)(real_batch)
    tflite_features = build_predictor(tflite_model, threads=2, batch_size=10)(real_batch)
    cosine = np.sum(keras_features * tflite_features, axis=1) / (
        np.linalg.norm(keras_features, axis=1) * np.linalg.norm(tflite_features, axis=1)
    )
    # Post-ReLU6 averages are in [0, 6]; float32 re-ordered sums differ by ~1e-6 relative.
    assert keras_features.shape == tflite_features.shape == (10, 1280)
    assert np.abs(keras_features - tflite_features).max() < 1e-3
    assert cosine.min() > 0.99999
    assert len(list(tmp_path.glob("*.tflite"))) == 1  # the conversion is cached for the next run


def test_the_fixture_model_takes_and_gives_what_the_real_one_does(small_payload: ModelPayload, real_batch):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=small_payload.blob)
    (inputs,), (outputs,) = interpreter.get_input_details(), interpreter.get_output_details()
    size = small_payload.image_size
    assert (list(inputs["shape"]), list(inputs["shape_signature"])) == ([1, size, size, 3], [-1, size, size, 3])
    assert (list(outputs["shape"]), list(outputs["shape_signature"])) == ([1, FIXTURE_FEATURES], [-1, FIXTURE_FEATURES])
    assert inputs["dtype"] == outputs["dtype"] == np.float32
    features = build_predictor(small_payload, threads=1, batch_size=2)(real_batch[:2, :size, :size])
    assert features.shape == (2, FIXTURE_FEATURES) and features.dtype == np.float32
    assert np.abs(features[0] - features[1]).max() > 1e-3  # different images, different features


def test_short_batches_reuse_the_input_buffer_without_mixing_images(small_payload, real_batch):
    small = real_batch[:, 64:160, 64:160].copy()  # the small model takes 96 px: the centre crop
    reference = build_predictor(small_payload, threads=1, batch_size=10)(small)
    predict = build_predictor(small_payload, threads=1, batch_size=4)
    first, short = predict(small[:4]), predict(small[4:7])
    assert short.shape == (3, 1280)
    assert np.abs(np.concatenate([first, short]) - reference[:7]).max() < 1e-4


def test_pixels_are_scaled_to_minus_one_one_in_place():
    pixels = np.array([[0, 255, 127]], dtype=np.uint8)
    buffer = np.full((2, 3), 7.0, dtype=np.float32)
    scaled = to_model_input(pixels, out=buffer[:1])
    assert np.allclose(buffer[0], [-1.0, 1.0, 127 / 127.5 - 1], atol=1e-6)
    assert np.shares_memory(scaled, buffer)
    assert to_model_input(pixels).dtype == np.float32


def test_predictor_is_built_once_per_process(small_payload):
    builds = []
    first = cached_predictor(lambda: small_payload, small_payload.fingerprint, 1, 2, on_build=lambda: builds.append(1))
    second = cached_predictor(lambda: small_payload, small_payload.fingerprint, 1, 2, on_build=lambda: builds.append(1))
    assert first is second
    assert builds == [1]
