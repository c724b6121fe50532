"""The test fixtures' own files; where the project and the real data are is in devkit.paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.paths import PROJECT_ROOT, shared_weights

# A tiny TFLite model with the engine's input and output shapes (tests/support/make_fixture_model.py writes it).
FIXTURE_MODEL = PROJECT_ROOT / "tests" / "fixtures" / "tiny_model.tflite"
FIXTURE_MODEL_SIZE = 96
FIXTURE_FEATURES = 1280  # MobileNetV2's pooled feature width, as the real model gives


def require_weights() -> Path:
    """The real weights; a test that needs them fails (never skips) without."""
    try:
        return shared_weights()
    except FileNotFoundError as missing:
        pytest.fail(str(missing))
