"""The model the cluster reads from the bucket: the weights file, and its conversion for the TFLite engine.

With both in the bucket, a run on EMR needs no internet (no Keras download) and its driver never imports TensorFlow
(the converted model is read from the cache, under the name the dataset itself looks up).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fruits.cloud.config import Settings
from fruits.datasets.inference_model import (
    IMAGENET,
    InferenceModelDataset,
    conversion_name,
    keras_cache_folder,
    keras_weights_name,
)

WEIGHTS_FOLDER = "weights"  # under PREFIX/artifacts/: the nodes' role may read it
MODEL_CACHE = "model_cache"  # under PREFIX/data/, as the catalog's inference_model path
LOCAL_MODEL_CACHE = Path("data") / MODEL_CACHE  # the local runs' cache (conf/base: root data)


@dataclass(frozen=True)
class ModelFiles:
    weights: Path
    converted: Path

    def keys(self, settings: Settings) -> list[tuple[Path, str]]:
        """Where the cluster reads them."""
        return [(self.weights, weights_key(settings, self.weights.name)),
                (self.converted, settings.key("data", MODEL_CACHE, self.converted.name))]


def weights_key(settings: Settings, name: str) -> str:
    return settings.key("artifacts", WEIGHTS_FOLDER, name)


def weights_file(source: str, image_size: int) -> Path:
    """The local weights file: Keras' cached ImageNet download for ``imagenet`` (downloaded once if absent)."""
    if source != IMAGENET:
        return Path(source)
    return keras_cache_folder() / keras_weights_name(image_size)


def prepare(source: str, image_size: int) -> ModelFiles:
    """The weights and their TFLite conversion, as the local cache holds them (converted here, with TensorFlow, when
    it does not yet): the dataset itself loads them, so the name is the one a run looks up."""
    payload = InferenceModelDataset(weights=source, image_size=image_size, engine="tflite",
                                    path=str(LOCAL_MODEL_CACHE)).load()
    return ModelFiles(weights_file(source, image_size), LOCAL_MODEL_CACHE / conversion_name(payload.fingerprint))
