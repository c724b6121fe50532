"""Read the pipeline's output from S3 without Spark, to check a cloud run from a laptop."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rich.table import Table

from fruits.cloud.aws import CloudError
from fruits.cloud.config import Settings
from fruits.datasets.table import read_published
from fruits.publishing import POINTER, DataRoot


def load_results(settings: Settings) -> tuple[pd.DataFrame, str]:
    """The published results (the Delta version ``data/current.json`` names) as one DataFrame, and the run they are
    from, in path order. Reading through the pointer means a run that failed or is still running is never read as
    complete.
    """
    root = DataRoot(settings.uri("data"))
    published = root.published()
    if published.run_id is None:
        raise CloudError(
            f"No published run at {root.join(POINTER)}: the `run` step has not finished yet "
            "(see `fruits-cloud status`)."
        )
    return read_published(root.uri, "results").sort_values("path", ignore_index=True), published.run_id


def _dimensions(column: pd.Series) -> str:
    """Vector length(s) in a list column: one number when consistent, else the range (a bug to look at)."""
    if column.empty:
        return "-"
    lengths = column.map(len)
    return str(lengths.min()) if lengths.min() == lengths.max() else f"{lengths.min()}..{lengths.max()} (inconsistent)"


@dataclass(frozen=True)
class Summary:
    rows: int
    columns: list[str]
    pca_dim: str
    label_counts: dict[str, int]
    sample: pd.DataFrame


def summarize(frame: pd.DataFrame, sample_rows: int = 5) -> Summary:
    sample = (
        frame[["path", "label"]]
        .head(sample_rows)
        .assign(
            pca_head=frame["pca_features"]
            .head(sample_rows)
            .map(lambda values: [round(float(v), 3) for v in values[:3]])
        )
    )
    return Summary(
        rows=len(frame),
        columns=list(frame.columns),
        pca_dim=_dimensions(frame["pca_features"]),
        label_counts={str(label): int(count) for label, count in frame["label"].value_counts().sort_index().items()},
        sample=sample,
    )


def summary_tables(summary: Summary, run_id: str) -> list[Table]:
    overview = Table("rows", "columns", "pca dim", title=f"Published results (run {run_id})")
    overview.add_row(str(summary.rows), ", ".join(summary.columns), summary.pca_dim)
    labels = Table("label", "images", title="Images per label")
    for label, count in summary.label_counts.items():
        labels.add_row(label, str(count))
    sample = Table(*summary.sample.columns, title="First rows (pca_head = first 3 PCA components)")
    for row in summary.sample.itertuples(index=False):
        sample.add_row(*(str(value) for value in row))
    return [overview, labels, sample]
