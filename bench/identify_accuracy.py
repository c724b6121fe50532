"""Accuracy of `fruits identify` on held-out images of known classes, on the real Fruits-360 Test set.

Per class, Fruits-360's images are frames of one or two videos: frames are grouped by video and by 10 consecutive
frame numbers (as the report's probe does), and held-out images come from groups none of whose frames were
published, so that a photo's own neighbouring frame never answers for it. A run is published on the other groups'
images (a throw-away project copy, real weights), then every held-out image is identified with one `fruits identify`
as a user would call it.

    python -m bench.identify_accuracy [--published-per-class 10] [--held-out-per-class 3] [--neighbours 5]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from devkit.paths import FULL_SET, shared_weights
from devkit.project import copy_project, kedro

FRAMES_PER_GROUP = 10


def frame_group(path: Path) -> tuple[str, int]:
    """The video (``r_`` prefix or not) and the block of consecutive frame numbers an image belongs to."""
    match = re.match(r"(r_)?(\d+)_\d+", path.stem)
    if match is None:
        return path.stem, 0
    return match.group(1) or "", int(match.group(2)) // FRAMES_PER_GROUP


def split(folder: Path, published: int, held_out: int, rng: random.Random) -> tuple[list[Path], list[Path]]:
    """Images to publish and images to identify, from disjoint frame groups of one class."""
    groups: dict[tuple[str, int], list[Path]] = {}
    for image in sorted(folder.glob("*.jpg")):
        groups.setdefault(frame_group(image), []).append(image)
    keys = sorted(groups)
    rng.shuffle(keys)
    queries = [rng.choice(groups[key]) for key in keys[:held_out]]
    pool = [image for key in keys[held_out:] for image in groups[key]]
    return rng.sample(pool, min(published, len(pool))), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--published-per-class", type=int, default=10)
    parser.add_argument("--held-out-per-class", type=int, default=3)
    parser.add_argument("--neighbours", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="fruits-identify-"))
    project = work / "project"
    project.mkdir()
    copy_project(project, images=False)
    tree, queries = work / "published", []
    for folder in sorted(path for path in FULL_SET.iterdir() if path.is_dir()):
        publish, held_out = split(folder, args.published_per_class, args.held_out_per_class, rng)
        (tree / folder.name).mkdir(parents=True)
        for image in publish:
            shutil.copy(image, tree / folder.name / image.name)
        queries += held_out
    published = sum(1 for _ in tree.rglob("*.jpg"))

    started = time.perf_counter()
    run = kedro(project, "run", "--params", f"raw_images={tree},weights={shared_weights()}")
    if run.returncode != 0:
        sys.exit(f"kedro run failed:\n{run.stdout[-4000:]}")
    run_seconds = time.perf_counter() - started

    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "fruits", "identify", "--neighbours", str(args.neighbours), *map(str, queries)],
        cwd=project, capture_output=True, text=True, check=False,
    )
    identify_seconds = time.perf_counter() - started
    answers = dict(re.findall(r"^(.+\.jpg): most likely (.+)$", result.stdout, flags=re.MULTILINE))
    if result.returncode != 0 or len(answers) != len(queries):
        sys.exit(f"fruits identify failed ({len(answers)} of {len(queries)} answers):\n{result.stderr[-4000:]}")

    wrong = Counter((Path(photo).parent.name, label) for photo, label in answers.items()
                    if Path(photo).parent.name != label)
    right = len(queries) - sum(wrong.values())
    classes = len({Path(photo).parent.name for photo in answers})
    print(f"Published run: {published} images of {classes} classes ({args.published_per_class} per class), "
          f"{run_seconds:.0f} s")
    print(f"Identified: {len(queries)} held-out images ({args.held_out_per_class} per class, frame groups never "
          f"published), k = {args.neighbours}, one `fruits identify` in {identify_seconds:.0f} s")
    print(f"Top-1 accuracy: {right} / {len(queries)} = {right / len(queries):.1%}")
    for (truth, answer), count in wrong.most_common():
        print(f"  {truth} taken for {answer}: {count}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
