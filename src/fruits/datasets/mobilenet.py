"""MobileNetV2 feature extractor (ImageNet weights, no top, global average pooling: 1280-d per image)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import fsspec
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError

from fruits.engines import build_mobilenet_v2

IMAGENET = "imagenet"
NO_WEIGHTS_HINT = (
    "Could not get MobileNetV2 ImageNet weights from {source!r} ({reason}). Give a local weights file with "
    "`kedro run --params weights=/path/to/mobilenet_v2_1.0_224_no_top.h5` (Keras HDF5 weights, include_top=False), "
    "or run once with internet access so Keras caches its download under $KERAS_HOME/models."
)


def _local_copy(source: str, folder: str) -> str:
    """Keras reads weights from a local file only: fetch remote (s3://...) weights first."""
    if "://" not in source:
        return source
    target = os.path.join(folder, os.path.basename(source))
    fsspec.open(source).fs.get(source, target)
    return target


class MobileNetV2Dataset(AbstractDataset[None, Any]):
    """Loads the Keras model once on the driver.

    ``weights: imagenet`` uses Keras' own download and cache (``$KERAS_HOME/models``); any other value is a
    weights file (local path or URL such as ``s3://bucket/weights.h5``).
    """

    def __init__(self, *, weights: str = IMAGENET, image_size: int = 224, metadata: dict | None = None) -> None:
        self._weights = weights
        self._image_size = int(image_size)
        self.metadata = metadata
        self._model: Any = None

    def load(self) -> Any:
        """The model, built once per run (a pre-flight check loads it before Spark starts)."""
        if self._model is None:
            self._model = self._build()
        return self._model

    def _build(self) -> Any:
        if self._weights != IMAGENET and "://" not in self._weights and not os.path.isfile(self._weights):
            raise DatasetError(NO_WEIGHTS_HINT.format(source=self._weights, reason="file not found"))
        try:
            with tempfile.TemporaryDirectory() as folder:
                return build_mobilenet_v2(self._image_size, _local_copy(self._weights, folder))
        except (OSError, ValueError) as error:
            raise DatasetError(NO_WEIGHTS_HINT.format(source=self._weights, reason=error)) from None
        except Exception as error:  # Keras raises a bare Exception("URL fetch failure ...") when offline
            if "URL fetch failure" not in str(error):
                raise
            raise DatasetError(NO_WEIGHTS_HINT.format(source=self._weights, reason="no internet access")) from None

    def save(self, data: Any) -> None:
        raise DatasetError("MobileNetV2Dataset is read-only: it provides the pretrained model.")

    def _describe(self) -> dict[str, Any]:
        return {"weights": self._weights, "image_size": self._image_size}
