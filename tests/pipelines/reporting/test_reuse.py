"""The report's parts are drawn again only when the tables they show or the settings changed."""

from __future__ import annotations

from fruits.datasets.run import UNCHANGED
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.reuse import plan_report, unless_reused

TABLES = {"results": 4, "rejects": 2}


def published(run_id: str, tables: dict, reporting: ReportingParams = ReportingParams()) -> dict:
    """The plan a run published its report by."""
    return plan_report(tables, None, reporting, ProbeParams(), {"run_id": run_id})


def test_a_report_is_kept_while_its_tables_and_settings_stay_as_published() -> None:
    plan = plan_report(TABLES, published("r1", TABLES), ReportingParams(), ProbeParams(), {"run_id": "r2"})
    assert plan["reused"] and plan["drawn_by"] == "r1"
    kept_again = plan_report(TABLES, plan, ReportingParams(), ProbeParams(), {"run_id": "r3"})
    assert kept_again["reused"] and kept_again["drawn_by"] == "r1"  # the run that drew the figures, not r2


def test_a_new_table_version_or_setting_draws_the_report_again() -> None:
    for previous, reporting, probe in (
        (published("r1", {**TABLES, "results": 5}), ReportingParams(), ProbeParams()),
        (published("r1", {**TABLES, "rejects": 3}), ReportingParams(), ProbeParams()),
        (published("r1", TABLES), ReportingParams(gallery_queries=2), ProbeParams()),
        (published("r1", TABLES), ReportingParams(), ProbeParams(seed=1)),
        (None, ReportingParams(), ProbeParams()),  # the first run
    ):
        plan = plan_report(TABLES, previous, reporting, probe, {"run_id": "r2"})
        assert not plan["reused"] and plan["drawn_by"] == "r2", (previous, reporting, probe)


def test_a_table_never_published_is_never_kept() -> None:
    tables = {"results": 4, "rejects": None}
    plan = plan_report(tables, published("r1", tables), ReportingParams(), ProbeParams(), {"run_id": "r2"})
    assert not plan["reused"]


def test_a_gated_step_runs_only_when_the_report_is_drawn_again() -> None:
    calls = []

    def step(first: int, second: int) -> int:
        calls.append((first, second))
        return first + second

    gated = unless_reused(step)
    assert gated(1, 2, {"reused": False}) == 3
    assert gated(1, 2, {"reused": True}) is UNCHANGED
    assert calls == [(1, 2)]
