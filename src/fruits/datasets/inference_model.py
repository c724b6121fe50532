"""The pretrained MobileNetV2, ready for the executors: weights found (or downloaded by Keras and cached), hashed,
and converted for the engine once per weights file, engine, image size and converter version (cached on disk).

With a cached conversion the driver never imports TensorFlow: loading is reading two files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import fsspec
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError

from fruits.engines import ENGINES, ModelPayload, convert_to_tflite, converter_version, model_fingerprint
from fruits.publishing import DataRoot

logger = logging.getLogger(__name__)

IMAGENET = "imagenet"
# Keras' own download of the same weights (keras.applications.mobilenet_v2), cached in $KERAS_HOME/models.
KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
KERAS_IMAGENET_SIZES = (96, 128, 160, 192, 224)
NO_WEIGHTS_HINT = (
    "Could not get MobileNetV2 ImageNet weights from {source!r} ({reason}). Give a local weights file with "
    "`kedro run --params weights=/path/to/mobilenet_v2_1.0_224_no_top.h5` (Keras HDF5 weights, include_top=False), "
    "or run once with internet access so Keras caches its download under $KERAS_HOME/models."
)


def keras_weights_name(image_size: int) -> str:
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{image_size}_no_top.h5"


def keras_cache_folder() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def imagenet_weights(image_size: int) -> bytes:
    """Keras' ImageNet weights: its cached download when present (no TensorFlow import), else Keras downloads them."""
    if image_size not in KERAS_IMAGENET_SIZES:
        raise DatasetError(
            f"Keras has ImageNet MobileNetV2 weights for image sizes {KERAS_IMAGENET_SIZES}, not {image_size}: "
            "choose one of these, or give a weights file with --params weights=..."
        )
    cached = keras_cache_folder() / keras_weights_name(image_size)
    if not cached.is_file():
        from keras.utils import get_file

        name = keras_weights_name(image_size)
        try:
            cached = Path(get_file(name, KERAS_WEIGHTS_URL + name, cache_subdir="models"))
        except Exception as error:  # Keras raises a bare Exception("URL fetch failure ...") when offline
            raise DatasetError(NO_WEIGHTS_HINT.format(source=IMAGENET, reason=_first_line(error))) from None
    return cached.read_bytes()


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def weights_bytes(source: str, image_size: int) -> bytes:
    """The weights file's content: Keras' ImageNet download, a local file, or a URL (``s3://...``)."""
    if source == IMAGENET:
        return imagenet_weights(image_size)
    try:
        with fsspec.open(source, "rb") as file:
            return file.read()
    except (OSError, ValueError) as error:
        reason = "file not found" if isinstance(error, FileNotFoundError) else _first_line(error)
        raise DatasetError(NO_WEIGHTS_HINT.format(source=source, reason=reason)) from None


def conversion_name(fingerprint: str) -> str:
    """The cached TFLite conversion's file name: one per model fingerprint and converter release."""
    return f"{fingerprint}-{converter_version()}.tflite"


def _convert(weights: bytes, image_size: int, source: str) -> bytes:
    """TFLite conversion from a temporary copy of the weights (Keras reads local HDF5 files only)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "weights.h5")
        with open(path, "wb") as file:
            file.write(weights)
        try:
            return convert_to_tflite(path, image_size)
        except (OSError, ValueError) as error:
            raise DatasetError(NO_WEIGHTS_HINT.format(source=source, reason=_first_line(error))) from None


class InferenceModelDataset(AbstractDataset[None, ModelPayload]):
    """Read-only: ``load()`` gives the :class:`ModelPayload` the featurization broadcasts.

    ``weights``: ``imagenet`` (Keras' download and cache) or a weights file (path or URL); ``engine``: ``tflite`` or
    ``keras``; ``path``: the folder where conversions are kept (under the data root: on S3 too, so clusters share
    them).
    """

    def __init__(
        self,
        *,
        weights: str = IMAGENET,
        image_size: int = 224,
        engine: str = "tflite",
        path: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise DatasetError(f"Unknown inference engine {engine!r}: choose one of {', '.join(ENGINES)}.")
        self._weights = str(weights)
        self._image_size = int(image_size)
        self._engine = engine
        self._cache = DataRoot(path)
        self.metadata = metadata
        self._payload: ModelPayload | None = None

    def load(self) -> ModelPayload:
        """Built once per run and kept: the pre-flight check loads it before Spark starts."""
        if self._payload is None:
            self._payload = self._build()
        return self._payload

    def _build(self) -> ModelPayload:
        weights = weights_bytes(self._weights, self._image_size)
        fingerprint = model_fingerprint(hashlib.sha256(weights).hexdigest(), self._engine, self._image_size)
        blob = weights if self._engine == "keras" else self._cached_conversion(weights, fingerprint)
        logger.info("MobileNetV2 %s model %s ready (%d px, %.1f MB)", self._engine, fingerprint, self._image_size,
                    len(blob) / 1e6)
        return ModelPayload(engine=self._engine, image_size=self._image_size, blob=blob, fingerprint=fingerprint)

    def cached(self, fingerprint: str, image_size: int) -> ModelPayload | None:
        """The TFLite model of ``fingerprint`` if a run converted it (no weights read): what ``fruits identify``
        featurizes photos with, the very model of the published features."""
        blob = self._cache.read_bytes(conversion_name(fingerprint))
        return None if blob is None else ModelPayload("tflite", image_size, blob, fingerprint)

    def _cached_conversion(self, weights: bytes, fingerprint: str) -> bytes:
        name = conversion_name(fingerprint)
        cached = self._cache.read_bytes(name)
        if cached is not None:
            return cached
        started = time.perf_counter()
        blob = _convert(weights, self._image_size, self._weights)
        self._cache.write_bytes_atomically(name, blob)
        logger.info("Converted MobileNetV2 to TFLite in %.1f s, cached as %s", time.perf_counter() - started,
                    self._cache.join(name))
        return blob

    def save(self, data: ModelPayload) -> None:
        raise DatasetError("The inference model is read-only: it comes from the pretrained weights.")

    def _describe(self) -> dict[str, Any]:
        return {"weights": self._weights, "image_size": self._image_size, "engine": self._engine,
                "path": self._cache.uri}
