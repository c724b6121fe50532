"""The machine-readable summary of a run (the accounting of every listed file comes from the output pipeline's
gate, ``account_for_files``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from fruits.provenance import check_one_input


def summarize_run(
    file_accounting: dict[str, Any],
    featurization_report: dict[str, Any],
    pca_fit: dict[str, Any],
    probe: dict[str, Any],
    class_counts: pd.DataFrame,
    reject_reasons: pd.DataFrame,
    run_info: dict[str, Any],
    run_metrics: dict[str, Any],
) -> dict[str, Any]:
    """The machine-readable summary: provenance, counts that add up, the store, PCA, probe and timings. Its parts
    must come from the input this run is given: the report states that input."""
    check_one_input(run_info, file_accounting=file_accounting.get("input"),
                    featurization_report=featurization_report.get("input"), PCA_fit=pca_fit.get("input"))
    counts = file_accounting
    featurized_now = int(class_counts["featurized"].sum())
    return {
        "run": dict(run_info),
        "counts": {
            **counts,
            "rejected_by_kind": dict(zip(reject_reasons["reject_kind"], map(int, reject_reasons["images"]),
                                         strict=True)),
            "new": featurization_report["new"],
            "changed": featurization_report["changed"],
            "left_sample": featurization_report["left_sample"],
            "gone": featurization_report["gone"],
            "unchanged": featurization_report["unchanged"],
        },
        "results": {"images": featurized_now, "classes": int((class_counts["featurized"] > 0).sum()),
                    "rejects": int(reject_reasons["images"].sum())},
        "model": {key: featurization_report[key] for key in ("engine", "fingerprint", "image_size")},
        "featurization": {key: featurization_report[key] for key in
                          ("to_featurize", "images_inferred", "full_refresh", "cores")},
        "pca": pca_fit,
        "probe": probe,
        "stage_seconds": dict(run_metrics["stage_seconds"]),
    }
