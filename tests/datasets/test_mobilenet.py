import pytest
from kedro.io.core import DatasetError

from fruits.datasets import MobileNetV2Dataset


def test_real_weights_file_gives_1280_d_model(real_weights):
    model = MobileNetV2Dataset(weights=str(real_weights), image_size=224).load()
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1280)


def test_missing_weights_file_says_what_to_do(tmp_path):
    with pytest.raises(DatasetError) as error:
        MobileNetV2Dataset(weights=str(tmp_path / "missing.h5")).load()
    message = str(error.value)
    assert "file not found" in message
    assert "kedro run --params weights=" in message
    assert "\n" not in message


def test_unreadable_weights_file_says_what_to_do(tmp_path):
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5")
    with pytest.raises(DatasetError, match="Could not get MobileNetV2 ImageNet weights"):
        MobileNetV2Dataset(weights=str(broken), image_size=96).load()
