"""`fruits identify`: the k-NN vote over the published projections, the photos' decoding and the one-sentence errors.

The end-to-end accuracy on held-out images of known classes is in tests/test_identify_run.py (slow tier).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from deltalake import write_deltalake
from PIL import Image

from devkit.paths import MINI_SET
from devkit.project import copy_project
from fruits.identify import (
    Neighbour,
    PublishedImages,
    describe,
    featurize_photos,
    identify,
    neighbours_picture,
    published_images,
    read_photos,
    vote,
)
from fruits.tables import RESULTS, TABLES
from tests.support.images import decompression_bomb

BANANA = MINI_SET / "Banana" / "12_100.jpg"
KIWI = MINI_SET / "Kiwi" / "3_100.jpg"


def publish_results(root: Path, rows: list[tuple[str, str, list[float]]]) -> None:
    """A data root whose published results hold these (path, label, pca_features) rows, as a run leaves it."""
    table = pa.table({
        "path": [path for path, _, _ in rows],
        "label": [label for _, label, _ in rows],
        "change_key": ["mtime:1:size:1"] * len(rows),
        "fingerprint": ["tflite-test"] * len(rows),
        "pca_features": [vector for _, _, vector in rows],
        "pca_run_id": ["r1"] * len(rows),
    }, schema=RESULTS)
    write_deltalake(str(root / TABLES["results"].location), table)
    (root / "current.json").write_text(json.dumps({"run_id": "r1", "tables": {"results": 0}}))


def test_the_class_with_most_neighbours_wins_and_ties_go_to_the_nearest():
    neighbours = [Neighbour("a", "Kiwi", 3.0), Neighbour("b", "Lemon", 1.0), Neighbour("c", "Kiwi", 4.0),
                  Neighbour("d", "Lemon", 5.0), Neighbour("e", "Banana", 0.5)]
    assert [(v.label, v.count, v.nearest) for v in vote(neighbours)] == [
        ("Lemon", 2, 1.0), ("Kiwi", 2, 3.0), ("Banana", 1, 0.5)]


def test_a_photo_is_projected_and_compared_with_the_published_projections():
    published = PublishedImages(np.array(["p/k1", "p/k2", "p/l1", "p/b1"]),
                                np.array(["Kiwi", "Kiwi", "Lemon", "Banana"]),
                                np.array([[1.0, 0.0], [1.5, 0.0], [0.0, 3.0], [9.0, 9.0]]))
    components = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # keeps the first two of three features
    [result] = identify({"photo.jpg": np.array([1.0, 0.5, 100.0], dtype=np.float32)}, components, published, 3)
    assert result.votes[0].label == "Kiwi"
    assert [n.path for n in result.neighbours] == ["p/k1", "p/k2", "p/l1"]
    assert [round(n.distance, 4) for n in result.neighbours] == [0.5, round(np.hypot(0.5, 0.5), 4),
                                                                 round(np.hypot(1.0, 2.5), 4)]
    text = describe(result)
    assert text.splitlines()[0] == "photo.jpg: most likely Kiwi"
    assert "Kiwi: 2 of 3 nearest images, the nearest at distance 0.5" in text


def test_paths_that_are_no_photo_file_get_one_sentence_each(tmp_path):
    (tmp_path / "folder").mkdir()
    contents, problems = read_photos([str(BANANA), str(tmp_path / "gone.jpg"), str(tmp_path / "folder")])
    assert list(contents) == [str(BANANA)]
    assert problems == [f"{tmp_path / 'gone.jpg'} does not exist: give the path of a photo file.",
                        f"{tmp_path / 'folder'} is not a file: give photo files, not folders."]


def test_a_non_image_and_a_decompression_bomb_are_refused_and_the_others_featurized(small_payload):
    contents = {"banana.jpg": BANANA.read_bytes(), "notes.txt": b"not a photo", "bomb.png": decompression_bomb(),
                "empty.jpg": b""}
    features, problems = featurize_photos(contents, small_payload)
    assert list(features) == ["banana.jpg"]
    assert features["banana.jpg"].shape == (1280,)
    assert problems == [
        "notes.txt is not an image Pillow can decode: give a JPEG, PNG or HEIC photo.",
        "bomb.png has more pixels than the decompression-bomb guard allows: give a smaller copy.",
        "empty.jpg is empty: give a photo file.",
    ]


def test_nothing_published_is_one_sentence(tmp_path):
    with pytest.raises(ValueError, match=r"^Nothing is published under .* yet: run `kedro run` first"):
        published_images(str(tmp_path))


def test_the_published_projections_are_read_without_spark(tmp_path):
    publish_results(tmp_path, [("file:///k.jpg", "Kiwi", [1.0, 2.0]), ("file:///l.jpg", "Lemon", [3.0, 4.0])])
    published = published_images(str(tmp_path))
    assert list(published.labels) == ["Kiwi", "Lemon"]
    assert published.vectors.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_the_picture_shows_each_photo_beside_its_neighbours(tmp_path):
    published = PublishedImages(np.array([KIWI.as_uri(), (tmp_path / "vanished.jpg").as_uri()]),
                                np.array(["Kiwi", "Lemon"]), np.array([[0.0], [1.0]]))
    results = identify({"a.jpg": np.array([0.1]), "b.jpg": np.array([0.9])}, np.eye(1), published, 2)
    figure = neighbours_picture(results, {"a.jpg": KIWI.read_bytes(), "b.jpg": BANANA.read_bytes()})
    figure.savefig(tmp_path / "picture.png")
    assert len(figure.axes) == 2 * 3
    assert figure.axes[0].get_title() == "a.jpg\n→ Kiwi"
    assert figure.axes[4].get_title() == "Lemon\nd = 0.1"  # b's nearest: the vanished file, a grey tile
    assert "cannot be shown" in [text.get_text() for text in figure.axes[4].texts]
    assert Image.open(tmp_path / "picture.png").size[0] > 300


@pytest.mark.integration
def test_identify_before_any_run_says_so_in_one_sentence(tmp_path):
    project = copy_project(tmp_path, images=False)
    result = subprocess.run([sys.executable, "-m", "fruits", "identify", str(BANANA), str(project / "gone.jpg")],
                            cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1
    assert f"{project / 'gone.jpg'} does not exist: give the path of a photo file." in result.stderr
    assert "Error: Nothing is published under" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
