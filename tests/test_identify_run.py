"""`fruits identify` end to end: publish a run on part of the mini set, then identify the images held out of it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from devkit.project import copy_project, kedro

pytestmark = pytest.mark.slow

RAW = Path("data/01_raw/fruits-360-mini/Test")
HELD_OUT_PER_CLASS = 2


def test_held_out_images_of_known_classes_are_identified(tmp_path: Path, real_weights: Path):
    project = copy_project(tmp_path)
    held_out = tmp_path / "held out"
    for folder in sorted((project / RAW).iterdir()):
        (held_out / folder.name).mkdir(parents=True)
        for image in sorted(folder.iterdir())[-HELD_OUT_PER_CLASS:]:
            image.rename(held_out / folder.name / image.name)
    published = kedro(project, "run", "--params", f"weights={real_weights}")
    assert published.returncode == 0, published.stdout[-4000:]

    photos = sorted(str(path) for path in held_out.rglob("*.jpg"))
    # No --weights: the published features' model is read from the model cache.
    result = subprocess.run([sys.executable, "-m", "fruits", "identify", *photos, "--picture", "neighbours.png"],
                            cwd=project, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    answers = dict(re.findall(r"^(.+\.jpg): most likely (.+)$", result.stdout, flags=re.MULTILINE))
    assert sorted(answers) == photos
    right = sum(Path(photo).parent.name == label for photo, label in answers.items())
    assert right / len(photos) >= 0.9, result.stdout
    with Image.open(project / "neighbours.png") as picture:
        assert picture.size[1] > 100 * len(photos)
