"""The published state as a person looks for it: where the latest report is, and the lines that end a run.

The pointer names the current version of every output, the report included, even after a partial run that wrote
none (it then names an earlier run's): ``fruits report`` and the end of every run print that location.
"""

from __future__ import annotations

import json
from typing import Any

from fruits.publishing import POINTER, DataRoot, Publication
from fruits.tables import TABLES

REPORT = "08_reporting/report.md"
SUMMARY = "08_reporting/run_summary.json"


def report_location(root: DataRoot) -> str | None:
    """The published report (a path or URI), None before any run wrote one."""
    location = root.published().datasets.get(REPORT)
    return None if location is None else root.join(location)


def published_summary(root: DataRoot, publication: Publication | None = None) -> dict[str, Any] | None:
    """The published run's run_summary.json (of ``publication`` when the caller already read the pointer), None
    before any run wrote one."""
    location = (publication or root.published()).datasets.get(SUMMARY)
    text = root.read_text(location) if location else None
    return json.loads(text) if text else None


def closing_lines(root: DataRoot) -> list[str]:
    """What a run ends by saying: the published run and its counts, where the report and the tables are, and how
    to read them."""
    publication = root.published()
    report, summary = publication.datasets.get(REPORT), published_summary(root, publication)
    lines = [f"Published run {publication.run_id} ({root.join(POINTER)} names it)."]
    if summary is not None:
        results = summary.get("results", {})
        lines.append(f"Results: {results.get('images', 0):,} images of {results.get('classes', 0):,} classes, "
                      f"{results.get('rejects', 0):,} rejects.")
    if report is not None:
        author = report.split("/")[1]
        lines.append(f"Report: {root.join(report)}" + ("" if author == publication.run_id else
                                                        f" (written by run {author}: this run wrote none)"))
    tables = ", ".join(f"{name} {root.join(table.location)}" for name, table in TABLES.items()
                       if not table.bookkeeping)
    lines.append(f"Delta tables: {tables}; read them at the versions {POINTER} names (README, \"Reading the "
                 "results\"); `fruits report` prints the report's path after any run.")
    return lines
