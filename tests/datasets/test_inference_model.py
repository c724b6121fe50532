"""InferenceModelDataset: weights found and hashed, the conversion cached; errors say what to do."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.io.core import DatasetError

from fruits.datasets.inference_model import InferenceModelDataset
from fruits.engines import converter_version, model_fingerprint


def test_missing_weights_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as error:
        InferenceModelDataset(weights=str(tmp_path / "missing.h5"), path=str(tmp_path)).load()
    message = str(error.value)
    assert "file not found" in message and "kedro run --params weights=" in message
    assert "\n" not in message


@pytest.mark.integration  # the conversion imports TensorFlow before it reads the file
def test_unreadable_weights_file_says_what_to_do(tmp_path: Path) -> None:
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5")
    with pytest.raises(DatasetError, match="Could not get MobileNetV2 ImageNet weights"):
        InferenceModelDataset(weights=str(broken), image_size=96, path=str(tmp_path / "cache")).load()


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="Unknown inference engine 'onnx'"):
        InferenceModelDataset(engine="onnx", path=str(tmp_path))


def test_keras_payload_is_the_weights_file_and_the_fingerprint_names_engine_and_size(tmp_path: Path) -> None:
    weights = tmp_path / "w.h5"
    weights.write_bytes(b"weights")
    payload = InferenceModelDataset(weights=str(weights), engine="keras", image_size=160, path=str(tmp_path)).load()
    digest = hashlib.sha256(b"weights").hexdigest()
    assert payload.blob == b"weights"
    assert payload.fingerprint == model_fingerprint(digest, "keras", 160) != model_fingerprint(digest, "tflite", 160)
    assert model_fingerprint(digest, "keras", 224) != payload.fingerprint


@pytest.mark.integration  # a fresh interpreter, to see what loading imports
def test_a_cached_conversion_is_read_without_importing_tensorflow(tmp_path: Path) -> None:
    weights = tmp_path / "w.h5"
    weights.write_bytes(b"weights")
    fingerprint = model_fingerprint(hashlib.sha256(b"weights").hexdigest(), "tflite", 224)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / f"{fingerprint}-{converter_version()}.tflite").write_bytes(b"flatbuffer")
    script = (
        "import sys\nfrom fruits.datasets.inference_model import InferenceModelDataset\n"
        f"payload = InferenceModelDataset(weights={str(weights)!r}, path={str(tmp_path / 'cache')!r}).load()\n"
        "print(payload.blob, payload.fingerprint, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["b'flatbuffer'", fingerprint, "False", "False"]
