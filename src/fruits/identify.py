"""``fruits identify``: what the published features say a new photo shows, without Spark.

A photo is featurized by the same model and decoder as the pipeline, projected on the published PCA components, and
compared with the published results' projections: its nearest published images vote for their classes. This is the
first thing the app does with the features, runnable on a handful of photos in seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fruits.datasets.table import read_published
from fruits.engines import ModelPayload, build_predictor
from fruits.featurizer import file_reader
from fruits.images import decode_image, thumbnail
from fruits.pipelines.reporting.thumbnails import draw_tile
from fruits.rejects import ImageRejected, RejectKind

BATCH = 16  # photos per inference call
# What a person is told when a photo cannot be identified, by kind of reject.
PHOTO_PROBLEMS = {
    RejectKind.EMPTY_FILE: "is empty: give a photo file",
    RejectKind.NOT_AN_IMAGE: "is not an image Pillow can decode: give a JPEG, PNG or HEIC photo",
    RejectKind.CORRUPT_IMAGE: "is a damaged image ({detail}): give another copy of the photo",
    RejectKind.TOO_MANY_PIXELS: "has more pixels than the decompression-bomb guard allows: give a smaller copy",
}


@dataclass(frozen=True)
class PublishedImages:
    """The published results as the k-NN needs them: each image's URI, class and PCA projection."""

    paths: np.ndarray
    labels: np.ndarray
    vectors: np.ndarray  # (images, k), float64


@dataclass(frozen=True)
class Neighbour:
    path: str
    label: str
    distance: float


@dataclass(frozen=True)
class Vote:
    """A class among a photo's nearest images: how many of them, and how near its nearest one is."""

    label: str
    count: int
    nearest: float


@dataclass(frozen=True)
class Identification:
    photo: str
    votes: list[Vote]
    neighbours: list[Neighbour]


def photo_problem(photo: str, rejected: ImageRejected) -> str:
    """One sentence on why a photo cannot be identified and what to do."""
    problem = PHOTO_PROBLEMS.get(rejected.kind, "cannot be read ({detail})").format(detail=rejected.detail)
    return f"{photo} {problem}."


def read_photos(photos: Iterable[str]) -> tuple[dict[str, bytes], list[str]]:
    """The bytes of each photo, and one sentence for each path that is no readable file (checked before any slow
    work)."""
    contents, problems = {}, []
    for photo in photos:
        path = Path(photo)
        if not path.exists():
            problems.append(f"{photo} does not exist: give the path of a photo file.")
        elif not path.is_file():
            problems.append(f"{photo} is not a file: give photo files, not folders.")
        else:
            try:
                contents[photo] = path.read_bytes()
            except OSError as error:
                problems.append(f"{photo} cannot be read ({error.strerror}): check its permissions.")
    return contents, problems


def published_images(root_uri: str) -> PublishedImages:
    """The published results' paths, labels and projections; a one-sentence error before the first run."""
    results = read_published(root_uri, "results", ["path", "label", "pca_features"])
    if results.empty:
        raise ValueError(f"Nothing is published under {root_uri} yet: run `kedro run` first, then identify photos.")
    return PublishedImages(results["path"].to_numpy(), results["label"].to_numpy(),
                           np.stack(results["pca_features"].to_numpy()).astype(np.float64))


def featurize_photos(contents: dict[str, bytes], payload: ModelPayload) -> tuple[dict[str, np.ndarray], list[str]]:
    """MobileNetV2 features of each decodable photo (the pipeline's decoder and engine), and one sentence for each
    photo that is not."""
    pixels, problems = {}, []
    for photo, content in contents.items():
        try:
            pixels[photo] = decode_image(content, payload.image_size)
        except ImageRejected as rejected:
            problems.append(photo_problem(photo, rejected))
    if not pixels:
        return {}, problems
    batch = min(BATCH, len(pixels))
    predict = build_predictor(payload, threads=os.cpu_count() or 1, batch_size=batch)
    names = list(pixels)
    features = {}
    for start in range(0, len(names), batch):
        chunk = names[start:start + batch]
        for name, vector in zip(chunk, predict(np.stack([pixels[name] for name in chunk])), strict=True):
            features[name] = vector
    return features, problems


def vote(neighbours: list[Neighbour]) -> list[Vote]:
    """Classes by number of neighbours, ties broken by the nearest neighbour of each class."""
    frame = pd.DataFrame([(n.label, n.distance) for n in neighbours], columns=["label", "distance"])
    votes = frame.groupby("label")["distance"].agg(["count", "min"]).reset_index()
    votes = votes.sort_values(["count", "min"], ascending=[False, True])
    return [Vote(row.label, int(row.count), float(row.min)) for row in votes.itertuples()]


def identify(features: dict[str, np.ndarray], components: np.ndarray, published: PublishedImages,
             neighbours: int) -> list[Identification]:
    """Each photo's ``neighbours`` nearest published images in PCA space (Euclidean, as the report's gallery) and
    their vote."""
    identifications = []
    for photo, vector in features.items():
        projected = vector.astype(np.float64) @ components
        distances = np.linalg.norm(published.vectors - projected, axis=1)
        order = np.argsort(distances, kind="stable")[:neighbours]
        nearest = [Neighbour(str(published.paths[i]), str(published.labels[i]), float(distances[i])) for i in order]
        identifications.append(Identification(photo, vote(nearest), nearest))
    return identifications


def describe(identification: Identification) -> str:
    """What the command prints for a photo: the likely classes, then the nearest images."""
    total = len(identification.neighbours)
    lines = [f"{identification.photo}: most likely {identification.votes[0].label}"]
    lines += [f"  {v.label}: {v.count} of {total} nearest images, the nearest at distance {v.nearest:.1f}"
              for v in identification.votes]
    lines += [f"    {n.distance:7.1f}  {n.path}" for n in identification.neighbours]
    return "\n".join(lines)


def neighbours_picture(identifications: list[Identification], contents: dict[str, bytes]) -> Figure:
    """Each photo (left) beside its nearest published images, decoded with the pipeline's guards (a neighbour that
    cannot be read is a grey tile). Red titles: a class other than the photo's most likely one."""
    columns = 1 + max(len(i.neighbours) for i in identifications)
    figure = Figure(figsize=(1.6 * columns, 1.9 * len(identifications)))
    paths = sorted({n.path for i in identifications for n in i.neighbours})
    stored = dict(zip(paths, file_reader(paths[0])(paths), strict=True)) if paths else {}
    axes = figure.subplots(len(identifications), columns, squeeze=False)
    for axis_row, identification in zip(axes, identifications, strict=True):
        likely = identification.votes[0].label
        draw_tile(axis_row[0], thumbnail(contents[identification.photo]),
                  f"{Path(identification.photo).name[:20]}\n→ {likely}", "black")
        for axis, neighbour in zip(axis_row[1:], [*identification.neighbours, *[None] * columns], strict=False):
            if neighbour is None:
                axis.axis("off")
                continue
            draw_tile(axis, thumbnail(stored[neighbour.path]), f"{neighbour.label[:20]}\nd = {neighbour.distance:.1f}",
                      "black" if neighbour.label == likely else "red")
    figure.suptitle("Photos and their nearest published images in PCA space", fontsize=10)
    figure.tight_layout()
    return figure
