"""The machine-readable summary of a run, and the check that every listed file is accounted for once (nothing is
published otherwise)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def check_counts(report: dict[str, Any]) -> dict[str, Any]:
    """Every listed file is accounted for once, from the listing and the featurization of one run; the run fails
    (publishes nothing) otherwise."""
    counts = {
        "listed": int(report["listed"]),
        "ignored": int(report["ignored"]),
        "ignored_by_kind": dict(report["ignored_by_kind"]),
        "not_sampled": int(report["images"]) - int(report["sampled"]),
        "skipped": int(report["skipped"]),
        "featurized": int(report["featurized"]),
        "rejected": int(report["listing_rejected"]) + int(report["rejected"]),
    }
    parts = ("ignored", "not_sampled", "skipped", "featurized", "rejected")
    accounted = sum(counts[part] for part in parts)
    if accounted != counts["listed"]:
        raise ValueError(
            f"{counts['listed']} files were listed but {accounted} are accounted for (ignored {counts['ignored']} + "
            f"not sampled {counts['not_sampled']} + skipped {counts['skipped']} + featurized {counts['featurized']} "
            f"+ rejected {counts['rejected']}): nothing is published."
        )
    return counts


def summarize_run(
    featurization_report: dict[str, Any],
    pca_fit: dict[str, Any],
    probe: dict[str, Any],
    class_counts: pd.DataFrame,
    reject_reasons: pd.DataFrame,
    rejects: pd.DataFrame,
    run_info: dict[str, Any],
    run_metrics: dict[str, Any],
) -> dict[str, Any]:
    """The machine-readable summary: provenance, counts that add up, the store, PCA, probe and timings."""
    counts = check_counts(featurization_report)
    featurized_now = int(class_counts["featurized"].sum())
    return {
        "run": dict(run_info),
        "counts": {
            **counts,
            "rejected_by_kind": dict(zip(reject_reasons["reject_kind"], map(int, reject_reasons["images"]),
                                         strict=True)),
            "new": featurization_report["new"],
            "changed": featurization_report["changed"],
            "deleted": featurization_report["deleted"],
            "unchanged": featurization_report["unchanged"],
        },
        "results": {"images": featurized_now, "classes": int((class_counts["featurized"] > 0).sum()),
                    "rejects": len(rejects)},
        "model": {key: featurization_report[key] for key in ("engine", "fingerprint", "image_size")},
        "featurization": {key: featurization_report[key] for key in
                          ("to_featurize", "images_inferred", "models_built", "full_refresh")},
        "pca": pca_fit,
        "probe": probe,
        "stage_seconds": dict(run_metrics["stage_seconds"]),
    }
