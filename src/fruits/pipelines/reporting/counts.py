"""What the run's tables hold, counted: images per class, rejects per kind, the rejects listed."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame


def count_images_per_class(results: DataFrame, rejects: pd.DataFrame) -> pd.DataFrame:
    """Per class: images featurized, rejected, and their total."""
    featurized = results.groupBy("label").count().toPandas().rename(columns={"count": "featurized"})
    rejected = rejects.dropna(subset=["label"]).groupby("label").size().rename("rejected").reset_index()
    table = featurized.merge(rejected, on="label", how="outer").fillna(0)
    table[["featurized", "rejected"]] = table[["featurized", "rejected"]].astype(int)
    table["total"] = table["featurized"] + table["rejected"]
    return table.sort_values("label", ignore_index=True)[["label", "featurized", "rejected", "total"]]


def count_reject_reasons(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejects per kind."""
    counts = rejects["reject_kind"].value_counts().rename_axis("reject_kind").reset_index(name="images")
    return counts.sort_values(["images", "reject_kind"], ascending=[False, True], ignore_index=True)


def list_rejects(rejects: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """The rejected images with their kind and detail (capped: the full list is the rejects Parquet)."""
    return rejects.head(max_rows)
