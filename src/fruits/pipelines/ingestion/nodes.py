"""Ingestion: what each file under the raw tree is (one listing per run), and the stratified sample to featurize.

Pure pandas on the driver: the listing is already there, and a vectorised pass over millions of rows takes
seconds, where a Spark job would first ship them all.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from fruits.datasets.image_tree import ImageTree
from fruits.params import IngestionParams, SamplingParams
from fruits.provenance import run_input
from fruits.rejects import RejectKind
from fruits.tables import IGNORED, IMAGE, IMAGE_KEY, REJECTED, SAMPLE_COLUMNS, seeded_rank

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = ["path", "relative_path", "label", "size", "change_key", "status", "detail"]
# Files that operating systems and archivers leave next to photos: counted as ignored, never featurized.
OS_METADATA_FILES = {".ds_store": ".DS_Store", "thumbs.db": "Thumbs.db", "desktop.ini": "desktop.ini"}
OS_METADATA_FOLDERS = ("__MACOSX", ".Trashes", ".Spotlight-V100", ".fseventsd", ".TemporaryItems")
_IN_METADATA_FOLDER = re.compile("(?:^|/)(" + "|".join(map(re.escape, OS_METADATA_FOLDERS)) + ")/")


def classify_files(files: pd.DataFrame, extensions: tuple[str, ...]) -> pd.DataFrame:
    """Label every listed file: an image of the class named by its first folder, a reject, or ignored by kind.

    Deeper folders are allowed (``Apple/deeper/x.jpg`` is an Apple). An image directly at the root has no class:
    it is a reject, its ``detail`` the reject's kind. OS metadata and other extensions are ignored but counted, by
    kind.
    """
    parts = files["relative_path"].str.split("/")
    name = parts.str[-1]
    lower = name.str.lower()
    suffix = lower.str.extract(r"(\.[^.]+)$", expand=False)
    metadata_folder = files["relative_path"].str.extract(_IN_METADATA_FOLDER, expand=False)
    metadata_file = lower.map(OS_METADATA_FILES)
    apple_double = lower.str.startswith("._")
    is_image = suffix.isin([extension.lower() for extension in extensions])
    at_root = parts.str.len() == 1
    ignored = [metadata_folder.notna(), metadata_file.notna(), apple_double, ~is_image]
    detail = np.select(
        [*ignored, at_root],
        [
            "os metadata (" + metadata_folder.fillna("") + ")",
            "os metadata (" + metadata_file.fillna("") + ")",
            "os metadata (AppleDouble ._ file)",
            "other extension (" + suffix.fillna("none") + ")",
            RejectKind.NOT_IN_CLASS_FOLDER.value,
        ],
        default="",
    )
    status = np.select([np.logical_or.reduce(ignored), at_root], [IGNORED, REJECTED], default=IMAGE)
    manifest = files.assign(label=parts.str[0].where(~at_root), status=status, detail=detail)
    return manifest[MANIFEST_COLUMNS]


def list_images(raw_images: ImageTree, settings: IngestionParams) -> pd.DataFrame:
    """The manifest of this run: every file under raw_images with what it is (one listing, nothing read)."""
    manifest = classify_files(raw_images.files, settings.image_extensions)
    images = manifest[manifest["status"] == IMAGE]
    if images.empty:
        raise ValueError(
            f"No images in class folders under {raw_images.root} ({len(manifest)} files listed): put each class's "
            f"images in a folder of its own, e.g. {raw_images.root}/Apple/1.jpg."
        )
    ignored = manifest.loc[manifest["status"] == IGNORED, "detail"].value_counts()
    logger.info(
        "%d files: %d images in %d classes, %d ignored%s, %d rejected (not in a class folder)",
        len(manifest), len(images), images["label"].nunique(), int(ignored.sum()),
        f" ({', '.join(f'{count} {kind}' for kind, count in ignored.items())})" if len(ignored) else "",
        int((manifest["status"] == REJECTED).sum()),
    )
    if images["label"].nunique() < 2:
        logger.warning("Only one class (%s) under %s: features are computed, but nothing can be compared.",
                       images["label"].iloc[0], raw_images.root)
    return manifest


def compare_samples(sample: pd.DataFrame, previous: pd.DataFrame | None, listed: pd.Series) -> dict[str, int]:
    """How this run's sample differs from the published one: new, changed and unchanged images, and of the images
    no longer sampled, those still listed (``left_sample``: a smaller or other sample) apart from those no longer
    in the tree (``gone``)."""
    previous = previous if previous is not None else pd.DataFrame(columns=IMAGE_KEY)
    both = sample[IMAGE_KEY].merge(previous[IMAGE_KEY], on="path", how="outer", suffixes=("", "_before"),
                                   indicator=True)
    kept = both["_merge"] == "both"
    dropped = both["_merge"] == "right_only"
    still_listed = both["path"].isin(listed)
    return {
        "new": int((both["_merge"] == "left_only").sum()),
        "changed": int((kept & (both["change_key"] != both["change_key_before"])).sum()),
        "left_sample": int((dropped & still_listed).sum()),
        "gone": int((dropped & ~still_listed).sum()),
        "unchanged": int((kept & (both["change_key"] == both["change_key_before"])).sum()),
    }


def summarize_listing(image_manifest: pd.DataFrame, image_sample: pd.DataFrame,
                      previous_image_sample: pd.DataFrame | None, run_info: dict[str, Any]) -> dict[str, Any]:
    """What the listing found, in a few numbers (what the publish gate checks the run's outcome against): files,
    ignored ones by kind, rejected ones, images in class folders; and how the sample changed since the published
    one (:func:`compare_samples`); the input they were made from (:mod:`fruits.provenance`)."""
    status = image_manifest["status"]
    listed = image_manifest.loc[status == IMAGE, "path"]
    return {
        "listed": len(image_manifest),
        "ignored": int((status == IGNORED).sum()),
        "ignored_by_kind": {str(kind): int(count) for kind, count in
                            image_manifest.loc[status == IGNORED, "detail"].value_counts().items()},
        "listing_rejected": int((status == REJECTED).sum()),
        "images": int((status == IMAGE).sum()),
        "sample_changes": compare_samples(image_sample, previous_image_sample, listed),
        "input": run_input(run_info),
    }


def allocate_quotas(class_sizes: dict[str, int], total: int) -> dict[str, int]:
    """Spread ``total`` equally over classes; a class too small for its share hands the rest to the others.

    Leftover units after the equal split go to the classes with the most images left, ties by name, so the
    result is deterministic.
    """
    quotas = dict.fromkeys(class_sizes, 0)
    remaining = min(total, sum(class_sizes.values()))
    open_classes = sorted(name for name, size in class_sizes.items() if size > 0)
    while remaining > 0 and open_classes:
        share = remaining // len(open_classes)
        if share == 0:
            by_room = sorted(open_classes, key=lambda name: (quotas[name] - class_sizes[name], name))
            for name in by_room[:remaining]:
                quotas[name] += 1
            break
        for name in open_classes:
            granted = min(share, class_sizes[name] - quotas[name])
            quotas[name] += granted
            remaining -= granted
        open_classes = [name for name in open_classes if quotas[name] < class_sizes[name]]
    return quotas


def class_quotas(class_sizes: dict[str, int], settings: SamplingParams) -> dict[str, int]:
    """Images to keep per class for the configured strategy: ``all``, ``per_class`` (N each) or ``total`` (N)."""
    if settings.strategy == "all":
        return dict(class_sizes)
    size = int(settings.size or 0)
    if settings.strategy == "per_class":
        return {name: min(size, count) for name, count in class_sizes.items()}
    return allocate_quotas(class_sizes, size)


def sample_images(image_manifest: pd.DataFrame, settings: SamplingParams) -> pd.DataFrame:
    """The stratified sample (``path``, ``relative_path``, ``label``, ``change_key``): each class's quota, chosen
    by a seeded hash of the path relative to the root, so the same seed picks the same files locally and on S3."""
    images = image_manifest.loc[image_manifest["status"] == IMAGE, SAMPLE_COLUMNS]
    sizes = images["label"].value_counts().to_dict()
    quotas = class_quotas(sizes, settings)
    logger.info("Sampling %d of %d images over %d classes (strategy %s)", sum(quotas.values()), len(images),
                len(sizes), settings.strategy)
    if settings.strategy == "all":
        return images.reset_index(drop=True)
    ranked = images.assign(order=seeded_rank(images["relative_path"], settings.seed))
    ranked = ranked.sort_values(["label", "order", "path"])
    chosen = ranked.groupby("label").cumcount() < ranked["label"].map(quotas)
    return ranked.loc[chosen, SAMPLE_COLUMNS].reset_index(drop=True)
