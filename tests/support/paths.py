"""Where the project, the embedded images, the fixture model, the shared real data and the jars are."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AWS_YML = PROJECT_ROOT / "conf" / "cloud" / "aws.yml"
MINI_SET = PROJECT_ROOT / "data" / "01_raw" / "fruits-360-mini" / "Test"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
FULL_SET = SHARED_DATA / "fruits-360" / "Test"
SHARED_WEIGHTS = SHARED_DATA / "weights" / "mobilenet_v2_1.0_224_no_top_tfslim.h5"
# A tiny TFLite model with the engine's input and output shapes (tests/support/make_fixture_model.py writes it).
FIXTURE_MODEL = PROJECT_ROOT / "tests" / "fixtures" / "tiny_model.tflite"
FIXTURE_MODEL_SIZE = 96
FIXTURE_FEATURES = 1280  # MobileNetV2's pooled feature width, as the real model gives
JARS_DIR = PROJECT_ROOT / ".jars"


def require_weights() -> Path:
    """The real ImageNet MobileNetV2 weights from ../shared; a test that needs them fails (never skips) without."""
    if not SHARED_WEIGHTS.is_file():
        pytest.fail(f"Real MobileNetV2 weights expected at {SHARED_WEIGHTS} (see ../shared/data/weights/SOURCE.md).")
    return SHARED_WEIGHTS
