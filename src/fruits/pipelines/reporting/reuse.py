"""The report's parts drawn once per state of what they show: a run that finds the results and rejects tables as the
published report saw them, with the same settings, keeps that report's counts, sample, probe and figures (the
report page and the summary are written by every run: they state the run). Nothing then reads the results."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fruits.datasets.run import UNCHANGED, Unchanged
from fruits.params import ProbeParams, ReportingParams


def plan_report(tables: dict[str, int | None], previous_plan: dict[str, Any] | None,
                reporting: ReportingParams, probe: ProbeParams, run_info: dict[str, Any]) -> dict[str, Any]:
    """What the report is drawn from (``basis``: the tables' versions and the settings), whether the published
    report (``previous_plan``, None before the first) was drawn from the same (``reused``), and the run whose counts
    and figures the report shows (``drawn_by``). A PCA refit or new features change the results' version, so they
    are part of the basis."""
    basis = {"tables": dict(sorted(tables.items())), "reporting": reporting.model_dump(mode="json"),
             "probe": probe.model_dump(mode="json")}
    reused = previous_plan is not None and previous_plan["basis"] == basis and None not in tables.values()
    return {"basis": basis, "reused": reused,
            "drawn_by": previous_plan["drawn_by"] if reused else run_info["run_id"]}


def unless_reused(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` as a node whose last input is the report's plan (:func:`plan_report`): when the plan reuses the
    published report, ``step`` does not run and its output stays as published (``UNCHANGED``)."""

    @functools.wraps(step)
    def node_function(*inputs: Any) -> Any | Unchanged:
        *arguments, plan = inputs
        return UNCHANGED if plan["reused"] else step(*arguments)

    return node_function
