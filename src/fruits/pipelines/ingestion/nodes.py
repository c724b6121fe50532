"""Ingestion: what each file under the raw tree is (one listing per run), and the stratified sample to featurize.

Spark jobs on the listing's rows, wherever they are: classification and labels are column expressions, the sample
is a window over a seeded hash per class, the comparison with the published sample is a join. The driver receives
counts (one row per class at most) and nothing per image, from 80 images to millions.
"""

from __future__ import annotations

import hashlib
import logging
import operator
import re
from functools import partial, reduce
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from fruits.datasets.image_tree import ImageTree
from fruits.datasets.run import UNCHANGED, Unchanged
from fruits.datasets.table import TableChange, TableChanges
from fruits.params import IngestionParams, SamplingParams
from fruits.provenance import run_input
from fruits.rejects import RejectKind
from fruits.reuse import reuse_plan
from fruits.tables import IGNORED, IMAGE, REJECTED, SAMPLE_COLUMNS, TABLES, materialized, seeded_rank

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = TABLES["listing"].schema.names
# Files that operating systems and archivers leave next to photos: counted as ignored, never featurized.
OS_METADATA_FILES = {".ds_store": ".DS_Store", "thumbs.db": "Thumbs.db", "desktop.ini": "desktop.ini"}
OS_METADATA_FOLDERS = ("__MACOSX", ".Trashes", ".Spotlight-V100", ".fseventsd", ".TemporaryItems")
_IN_METADATA_FOLDER = "(?:^|/)(" + "|".join(map(re.escape, OS_METADATA_FOLDERS)) + ")/"


def _first_match(conditions: list[tuple[Column, Column | str]], default: Column | str) -> Column:
    """The value of the first condition that holds (``np.select`` as one Spark expression)."""
    expression = F.when(*conditions[0])
    for condition, value in conditions[1:]:
        expression = expression.when(condition, value)
    return expression.otherwise(default)


def file_kinds(extensions: tuple[str, ...]) -> dict[str, Column]:
    """What makes a listed file an image of the class named by its first folder, a reject, or ignored by kind, as
    expressions of its ``relative_path`` (``status`` of ``detail``, which comes first): see :func:`classify_files`.

    Each row's kind is found once, by string functions, a regular expression only for the rare paths that may be in
    a metadata folder: every run classifies every listed file.
    """
    relative = F.col("relative_path")
    name = F.lower(F.substring_index(relative, "/", -1))
    extension = F.substring_index(name, ".", -1)  # the whole name when it has no dot
    suffix = F.when(name.contains(".") & (extension != ""), F.concat(F.lit("."), extension)).otherwise("")
    maybe_in_metadata_folder = reduce(operator.or_, [relative.contains(f"{folder}/") for folder in OS_METADATA_FOLDERS])
    metadata_folder = F.when(maybe_in_metadata_folder, F.regexp_extract(relative, _IN_METADATA_FOLDER, 1)).otherwise("")
    metadata_file = _first_match([(name == file_name, spelt) for file_name, spelt in OS_METADATA_FILES.items()], "")
    at_root = ~relative.contains("/")
    detail = _first_match([
        (metadata_folder != "", F.concat(F.lit("os metadata ("), metadata_folder, F.lit(")"))),
        (metadata_file != "", F.concat(F.lit("os metadata ("), metadata_file, F.lit(")"))),
        (name.startswith("._"), F.lit("os metadata (AppleDouble ._ file)")),
        (~suffix.isin([extension.lower() for extension in extensions]),
         F.concat(F.lit("other extension ("), F.when(suffix == "", "none").otherwise(suffix), F.lit(")"))),
        (at_root, F.lit(RejectKind.NOT_IN_CLASS_FOLDER.value)),
    ], F.lit(""))
    # the detail names the kind: none for an image, the reject's kind for a reject, else why the file is ignored
    status = _first_match([(F.col("detail") == "", F.lit(IMAGE)),
                           (F.col("detail") == RejectKind.NOT_IN_CLASS_FOLDER.value, F.lit(REJECTED))], F.lit(IGNORED))
    return {"label": F.when(~at_root, F.substring_index(relative, "/", 1)), "detail": detail, "status": status}


def classify_files(files: DataFrame, extensions: tuple[str, ...]) -> DataFrame:
    """Label every listed file: an image of the class named by its first folder, a reject, or ignored by kind.

    Deeper folders are allowed (``Apple/deeper/x.jpg`` is an Apple). An image directly at the root has no class:
    it is a reject, its ``detail`` the reject's kind. OS metadata and other extensions are ignored but counted, by
    kind.
    """
    kinds = file_kinds(extensions)
    with_detail = files.select("path", "relative_path", kinds["label"].alias("label"), "size", "change_key",
                               kinds["detail"].alias("detail"))
    return with_detail.select(*(kinds["status"].alias(name) if name == "status" else name for name in MANIFEST_COLUMNS))


def list_images(raw_images: ImageTree, settings: IngestionParams) -> TableChange:
    """The manifest of this run: every file under raw_images (one listing, nothing read), merged into the listing
    table so that only files that appeared, changed or went are written, and classified (:func:`classify_files`)
    as they are written. A fingerprint of the classification's expressions goes with it: the table's digest is of
    the listed columns, which the others are derived from by these expressions."""
    listing = raw_images.listing(settings.inventory)  # first: a Spark session, which expressions need
    classification = "; ".join(f"{name} = {column}" for name, column in file_kinds(settings.image_extensions).items())
    return TableChange(sync=listing, derive=partial(classify_files, extensions=settings.image_extensions),
                       derived_by=hashlib.sha256(classification.encode()).hexdigest()[:16])


def count_listing(image_manifest: DataFrame, root: str) -> dict[str, Any]:
    """The listing's counts (one aggregation): files, ignored ones by kind, rejected ones, images in class folders and
    classes. Fails in one sentence when no class folder holds an image."""
    rows = image_manifest.groupBy("status", "detail").agg(F.count(F.lit(1)).alias("files"),
                                                          F.countDistinct("label").alias("labels")).collect()
    by_kind = {(row["status"], row["detail"]): row["files"] for row in rows}
    classes = sum(row["labels"] for row in rows if row["status"] == IMAGE)  # images have one detail: ""
    counts = {
        "listed": sum(by_kind.values()),
        "ignored": sum(count for (status, _), count in by_kind.items() if status == IGNORED),
        "ignored_by_kind": {detail: count for (status, detail), count in sorted(by_kind.items()) if status == IGNORED},
        "listing_rejected": sum(count for (status, _), count in by_kind.items() if status == REJECTED),
        "images": sum(count for (status, _), count in by_kind.items() if status == IMAGE),
    }
    if counts["images"] == 0:
        raise ValueError(
            f"No images in class folders under {root} ({counts['listed']} files listed): put each class's "
            f"images in a folder of its own, e.g. {root}/Apple/1.jpg."
        )
    ignored = counts["ignored_by_kind"]
    logger.info(
        "%d files: %d images in %d classes, %d ignored%s, %d rejected (not in a class folder)",
        counts["listed"], counts["images"], classes, counts["ignored"],
        f" ({', '.join(f'{count} {kind}' for kind, count in ignored.items())})" if ignored else "",
        counts["listing_rejected"],
    )
    if classes < 2:
        logger.warning("Only one class under %s: features are computed, but nothing can be compared.", root)
    return counts


def compare_samples(sample: DataFrame, previous: DataFrame | None, manifest: DataFrame,
                    changes: TableChanges | None = None) -> dict[str, int]:
    """How this run's sample differs from the published one: new, changed and unchanged images, and of the images
    no longer sampled, those still listed (``left_sample``: a smaller or other sample) apart from those no longer
    in the tree (``gone``). Counted on the executors from the sample's recorded ``changes`` since the published
    version (the unchanged ones are the rest of the sample), else from a join of the two versions; the listing is
    joined only when images left the sample."""
    if previous is None:
        return {"new": sample.count(), "changed": 0, "left_sample": 0, "gone": 0, "unchanged": 0}
    if changes is not None:
        ends = changes.rows.select("path", F.col("after.change_key").alias("change_key"),
                                   F.col("before.change_key").alias("change_key_before"))
    else:
        ends = sample.select("path", "change_key").join(
            previous.select("path", F.col("change_key").alias("change_key_before")), "path", "full_outer")
    kept = F.col("change_key").isNotNull() & F.col("change_key_before").isNotNull()
    dropped = F.col("change_key").isNull()
    row = ends.agg(
        F.count(F.when(F.col("change_key_before").isNull(), 1)).alias("new"),
        F.count(F.when(kept & (F.col("change_key") != F.col("change_key_before")), 1)).alias("changed"),
        F.count(F.when(dropped, 1)).alias("dropped"),
        F.count(F.when(kept & (F.col("change_key") == F.col("change_key_before")), 1)).alias("unchanged"),
    ).first()
    listed = manifest.where(F.col("status") == IMAGE).select("path")
    left_sample = ends.where(dropped).join(listed, "path", "left_semi").count() if row["dropped"] else 0
    unchanged = row["unchanged"] if changes is None else sample.count() - row["new"] - row["changed"]
    return {"new": int(row["new"]), "changed": int(row["changed"]), "left_sample": left_sample,
            "gone": int(row["dropped"]) - left_sample, "unchanged": int(unchanged)}


LISTING_COUNTS = ("listed", "ignored", "ignored_by_kind", "listing_rejected", "images", "sampled")


def summarize_listing(image_manifest: DataFrame, image_sample: DataFrame, previous_image_sample: DataFrame | None,
                      image_sample_changes: TableChanges | None, run_info: dict[str, Any],
                      summary_sources: dict[str, int | None],
                      previous_listing_summary: dict[str, Any] | None) -> dict[str, Any]:
    """What the listing found, in a few numbers (what the publish gate checks the run's outcome against:
    :func:`count_listing`), how the sample changed since the published one (:func:`compare_samples`), and the input
    they were made from (:mod:`fruits.provenance`).

    The counts are made from the listing and the sample (``summary_sources``: their versions). When both are those
    the published summary counted (its ``plan``), the counts are that summary's, and the sample, being the published
    one, changed in nothing: no table is read."""
    plan = reuse_plan({"tables": dict(summary_sources)}, (previous_listing_summary or {}).get("plan"),
                      run_info["run_id"])
    if plan["reused"]:
        counts = {name: previous_listing_summary[name] for name in LISTING_COUNTS}
        changes = {"new": 0, "changed": 0, "left_sample": 0, "gone": 0, "unchanged": counts["sampled"]}
        logger.info("The listing and the sample are as run %s counted them: %d files, %d images, %d sampled",
                    plan["made_by"], counts["listed"], counts["images"], counts["sampled"])
    else:
        counts = count_listing(image_manifest, run_info["raw_images"])  # first: it fails fast without classes
        changes = compare_samples(image_sample, previous_image_sample, image_manifest, image_sample_changes)
        counts["sampled"] = changes["new"] + changes["changed"] + changes["unchanged"]  # each sampled image is one
    return {**counts, "sample_changes": changes, "input": run_input(run_info), "plan": plan}


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
    """Images to keep per class for a strategy with a size: ``per_class`` (N each) or ``total`` (N); ``all`` needs
    no quotas (:func:`sample_images`)."""
    size = int(settings.size or 0)
    if settings.strategy == "per_class":
        return {name: min(size, count) for name, count in class_sizes.items()}
    return allocate_quotas(class_sizes, size)


def update_sample(image_manifest: DataFrame, listing_changes: TableChanges | None,
                  image_sample_changes: TableChanges | None, settings: SamplingParams,
                  sample_sources: dict[str, int | None], previous_sample_plan: dict[str, Any] | None,
                  run_info: dict[str, Any]) -> tuple[TableChange | Unchanged, dict[str, Any]]:
    """The sample (:func:`sample_images`), made from the listing (``sample_sources``: its version) and the sampling
    settings; the published sample is kept, without reading the listing, when both are those it was made from.

    With strategy ``all``, a published sample drawn from the published listing with the same settings, and the
    listing's changes since recorded (``listing_changes``), the sample changes by the images among them
    (:func:`sample_changes`) instead of being compared whole with the listing; unless this run already changed the
    sample (``image_sample_changes``: a resumed run), which is then compared whole."""
    basis = {"tables": dict(sample_sources), "sampling": settings.model_dump(mode="json")}
    plan = reuse_plan(basis, previous_sample_plan, run_info["run_id"])
    if plan["reused"]:
        logger.info("The listing and the sampling settings are as run %s sampled them: its sample is kept",
                    plan["made_by"])
        return UNCHANGED, plan
    drawn_from_published = (
        settings.strategy == "all" and listing_changes is not None and previous_sample_plan is not None
        and image_sample_changes is not None and image_sample_changes.since == image_sample_changes.until
        and previous_sample_plan["basis"] == {**basis, "tables": {**basis["tables"], "listing": listing_changes.since}}
    )
    if drawn_from_published:
        return sample_changes(listing_changes), plan
    return sample_images(image_manifest, settings), plan


def sample_changes(listing_changes: TableChanges) -> TableChange:
    """With strategy ``all``, how the sample follows the listing's changes: images the listing did not hold before
    are appended (the sample, drawn from that listing, cannot hold them: no MERGE, whose search for matching rows
    reads the whole table), images changed are upserted, images deleted (or no longer images) removed; one small
    job counts them, and nothing else is read."""
    is_image = {end: F.coalesce(F.col(f"{end}.status") == IMAGE, F.lit(False)) for end in ("before", "after")}
    arrived = F.col("before").isNull()
    changes = materialized(listing_changes.rows.select(
        "path", (is_image["after"] & arrived).alias("add"), (is_image["after"] & ~arrived).alias("upsert"),
        (is_image["before"] & ~is_image["after"]).alias("remove"),
        *(F.col(f"after.{name}").alias(name) for name in SAMPLE_COLUMNS if name != "path")))
    row = changes.agg(*(F.count(F.when(F.col(kind), 1)).alias(kind) for kind in ("add", "upsert", "remove"))).first()
    logger.info("Sampling every image (strategy all): the sample follows the listing's changes since the published "
                "version, %d images added, %d changed and %d removed", row["add"], row["upsert"], row["remove"])

    def rows(kind: str, columns: list[str]) -> DataFrame | None:
        return changes.where(F.col(kind)).select(*columns) if row[kind] else None

    return TableChange(add=rows("add", SAMPLE_COLUMNS), upsert=rows("upsert", SAMPLE_COLUMNS),
                       remove=rows("remove", ["path"]))


def sample_images(image_manifest: DataFrame, settings: SamplingParams) -> TableChange:
    """The stratified sample (``path``, ``relative_path``, ``label``, ``change_key``): each class's quota, chosen
    by a seeded hash of the path relative to the root (so the same seed picks the same files locally and on S3),
    as a window per class; merged into the sample table, so that only what changed is written."""
    images = image_manifest.where(F.col("status") == IMAGE).select(*SAMPLE_COLUMNS)
    if settings.strategy == "all":  # no quotas to count: the listing's summary says how many images and classes
        logger.info("Sampling every image (strategy all)")
        return TableChange(sync=images)
    sizes = {row["label"]: row["count"] for row in images.groupBy("label").count().collect()}
    quotas = class_quotas(sizes, settings)
    logger.info("Sampling %d of %d images over %d classes (strategy %s)", sum(quotas.values()), sum(sizes.values()),
                len(sizes), settings.strategy)
    spark = image_manifest.sparkSession
    quota = spark.createDataFrame(sorted(quotas.items()), "label string, quota long")
    order = Window.partitionBy("label").orderBy(seeded_rank("relative_path", settings.seed), "path")
    ranked = images.withColumn("rank", F.row_number().over(order)).join(F.broadcast(quota), "label")
    return TableChange(sync=ranked.where(F.col("rank") <= F.col("quota")).select(*SAMPLE_COLUMNS))
