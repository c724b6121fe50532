"""Where the project, the embedded images, the shared real data and the jars are."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AWS_YML = PROJECT_ROOT / "conf" / "cloud" / "aws.yml"
MINI_SET = PROJECT_ROOT / "data" / "01_raw" / "fruits-360-mini" / "Test"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
FULL_SET = SHARED_DATA / "fruits-360" / "Test"
SHARED_WEIGHTS = SHARED_DATA / "weights" / "mobilenet_v2_1.0_224_no_top_tfslim.h5"
JARS_DIR = PROJECT_ROOT / ".jars"


def shared_weights() -> Path:
    """The real ImageNet MobileNetV2 weights from ../shared, or one sentence saying where they are expected."""
    if not SHARED_WEIGHTS.is_file():
        raise FileNotFoundError(
            f"Real MobileNetV2 weights expected at {SHARED_WEIGHTS} (see ../shared/data/weights/SOURCE.md).")
    return SHARED_WEIGHTS
