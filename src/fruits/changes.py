"""What changed in the featurized images since the published run: the outputs kept current by changes (the PCA's
count of changes since its fit, the results) look at those images only, instead of comparing every image, when
what they published describes the published versions of the sample and the store."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fruits.tables import featurized_keys

SAMPLED_THEN, SAMPLED_NOW = "sampled_then", "sampled_now"  # a changed image's sampled change key, null if not sampled


@dataclass(frozen=True)
class ChangedImages:
    """The images whose featurized state can differ from the published run's (``paths``): those the sample changed
    since its published version (its change feed) and those this run wrote store rows for (new, changed or retried
    images), each with its sampled change key at the published version and now (:data:`SAMPLED_THEN`,
    :data:`SAMPLED_NOW`), and their :func:`fruits.tables.featurized_keys` at the published versions (``before``)
    and now (``after``). ``since`` and ``until``: the versions of the sample and the store at the published run and
    now. ``paths``, ``before`` and ``after`` are None when there is nothing to move (the sample and store as
    published, or all featurized again) or they are not known (the sample's changes not recorded)."""

    since: dict[str, int | None]
    until: dict[str, int | None]
    paths: DataFrame | None = None
    before: DataFrame | None = None
    after: DataFrame | None = None

    def featurized_in(self, feature_store: DataFrame, fingerprint: str, published: bool = False) -> DataFrame:
        """The featurized keys of ``paths`` in this store, as sampled now (or at the published version): the keys
        come with the paths, so no sample is read, and they are few, so Spark broadcasts them into the store's
        scan instead of shuffling the store."""
        sampled = F.col(SAMPLED_THEN if published else SAMPLED_NOW)
        return featurized_keys(feature_store, self.paths.where(sampled.isNotNull())
                               .select("path", sampled.alias("change_key")), fingerprint)
