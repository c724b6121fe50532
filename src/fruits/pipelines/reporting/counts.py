"""What the run's tables hold, counted by Spark aggregates (one row per class or kind reaches the driver): images
per class, rejects per kind, the first rejects listed. Counted only when the tables changed since the published
report (:mod:`fruits.reuse`)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from fruits.datasets.run import UNCHANGED, Unchanged
from fruits.params import ProbeParams, ReportingParams
from fruits.reuse import reuse_plan

logger = logging.getLogger(__name__)

def count_images_per_class(results: DataFrame, rejects: DataFrame, report_tables: dict[str, int | None],
                           previous_report_plan: dict[str, Any] | None, reporting: ReportingParams,
                           probe: ProbeParams, run_info: dict[str, Any]) -> tuple[pd.DataFrame | Unchanged, dict]:
    """The report's plan (made here, the first node to read the tables once they are written), and per class the
    images featurized, rejected, and their total; the published counts stay when the plan reuses the published
    report."""
    plan = reuse_plan(report_basis(report_tables, reporting, probe), previous_report_plan, run_info["run_id"])
    if not plan["reused"]:
        return images_per_class(results, rejects), plan
    logger.info("The results and rejects are as run %s left them: its report's counts, probe and figures are kept",
                plan["made_by"])
    return UNCHANGED, plan


def report_basis(report_tables: dict[str, int | None], reporting: ReportingParams,
                 probe: ProbeParams) -> dict[str, Any]:
    """What the report's parts (counts, sample, probe, figures) are made from: the results' and rejects' versions
    and the reporting and probe settings (a PCA refit or new features change the results' version)."""
    return {"tables": dict(report_tables), "reporting": reporting.model_dump(mode="json"),
            "probe": probe.model_dump(mode="json")}


def images_per_class(results: DataFrame, rejects: DataFrame) -> pd.DataFrame:
    """Per class: images featurized, rejected, and their total."""
    featurized = results.groupBy("label").count().toPandas().rename(columns={"count": "featurized"})
    rejected = (rejects.where(F.col("label").isNotNull()).groupBy("label").count().toPandas()
                .rename(columns={"count": "rejected"}))
    table = featurized.merge(rejected, on="label", how="outer").fillna(0)
    table[["featurized", "rejected"]] = table[["featurized", "rejected"]].astype(int)
    table["total"] = table["featurized"] + table["rejected"]
    return table.sort_values("label", ignore_index=True)[["label", "featurized", "rejected", "total"]]


def count_reject_reasons(rejects: DataFrame) -> pd.DataFrame:
    """Rejects per kind."""
    counts = rejects.groupBy("reject_kind").count().toPandas().rename(columns={"count": "images"})
    counts["images"] = counts["images"].astype(int)
    return counts.sort_values(["images", "reject_kind"], ascending=[False, True], ignore_index=True)


def list_rejects(rejects: DataFrame, max_rows: int) -> pd.DataFrame:
    """The first rejected images by path, with their kind and detail (capped: the full list is the rejects table)."""
    return rejects.orderBy("path").limit(max_rows).toPandas()
