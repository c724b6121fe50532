"""Is OpenVINO a faster CPU engine for the same model? Per-thread throughput against LiteRT, and feature agreement.

    pip install -e ".[openvino]"     # not installed by make: an engine is adopted only if this probe says so
    python -m bench.openvino_probe

OpenVINO reads the project's cached TFLite flatbuffer directly. Both engines run one inference thread on the same
pre-decoded batches of 16 real images (as a Spark task does), alternately, several rounds, so that this VM's drift
hits both; then the cosine of their features on the 80 images of the embedded set.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from devkit.paths import FULL_SET, MINI_SET, PROJECT_ROOT, shared_weights
from fruits.datasets.inference_model import InferenceModelDataset
from fruits.engines import build_predictor, to_model_input
from fruits.images import decode_image

BATCH = 16
ROUNDS = 4
SECONDS = 8.0


def openvino_predictor(tflite: Path) -> Callable[[np.ndarray], np.ndarray]:
    """The same flatbuffer compiled by OpenVINO for the CPU, one inference thread, batches of 16."""
    import openvino

    core = openvino.Core()
    model = core.read_model(str(tflite))
    model.reshape([BATCH, 224, 224, 3])
    compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 1, "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()

    def predict(pixels: np.ndarray) -> np.ndarray:
        batch = np.zeros((BATCH, 224, 224, 3), dtype=np.float32)
        to_model_input(pixels, out=batch[: len(pixels)])
        return request.infer([batch])[compiled.output(0)][: len(pixels)].copy()

    return predict


def throughput(predict: Callable[[np.ndarray], np.ndarray], batch: np.ndarray) -> float:
    predict(batch)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        predict(batch)
        done += len(batch)
    return done / (time.perf_counter() - start)


def main() -> None:
    if importlib.util.find_spec("openvino") is None:
        raise SystemExit("openvino is not installed: pip install -e '.[openvino]', then run this again.")
    cache = Path(tempfile.mkdtemp(prefix="fruits-model-"))
    payload = InferenceModelDataset(weights=str(shared_weights()), path=str(cache)).load()
    tflite = next(cache.glob("*.tflite"))
    engines = {"litert": build_predictor(payload, threads=1, batch_size=BATCH), "openvino": openvino_predictor(tflite)}
    batch = np.stack([decode_image(path.read_bytes(), 224) for path in sorted(FULL_SET.rglob("*.jpg"))[:BATCH]])
    rates: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(ROUNDS):
        for name, predict in engines.items():
            rates[name].append(round(throughput(predict, batch), 1))
    images = np.stack([decode_image(path.read_bytes(), 224) for path in sorted(MINI_SET.rglob("*.jpg"))])
    features = {name: np.concatenate([predict(images[start:start + BATCH]) for start in range(0, len(images), BATCH)])
                for name, predict in engines.items()}
    a, b = features["litert"], features["openvino"]
    cosine = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    result = {
        "images_per_s_one_thread": rates,
        "openvino_vs_litert": round(float(np.mean(rates["openvino"]) / np.mean(rates["litert"])), 3),
        "cosine_min": round(float(cosine.min()), 6),
        "max_abs_difference": round(float(np.abs(a - b).max()), 6),
    }
    print(json.dumps(result, indent=2))
    out = PROJECT_ROOT / "bench" / "results" / f"openvino-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
