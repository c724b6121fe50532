"""An output is made again only when what it is made from changed: its source tables' versions or its settings."""

from __future__ import annotations

from fruits.datasets.run import UNCHANGED
from fruits.params import ProbeParams, ReportingParams
from fruits.pipelines.reporting.counts import report_basis
from fruits.reuse import reuse_plan, unless_reused

TABLES = {"results": 4, "rejects": 2}


def test_an_output_is_kept_while_its_basis_stays_as_published() -> None:
    basis = {"tables": TABLES, "fingerprint": "f"}
    first = reuse_plan(basis, None, "r1")
    assert not first["reused"] and first["made_by"] == "r1"
    second = reuse_plan(basis, first, "r2")
    assert second["reused"] and second["made_by"] == "r1"
    assert reuse_plan(basis, second, "r3")["made_by"] == "r1"  # the run that made it, not the last that kept it


def test_another_table_version_or_setting_makes_it_again() -> None:
    published = reuse_plan({"tables": TABLES, "fingerprint": "f"}, None, "r1")
    for basis in ({"tables": {**TABLES, "results": 5}, "fingerprint": "f"},
                  {"tables": {**TABLES, "rejects": 3}, "fingerprint": "f"},
                  {"tables": TABLES, "fingerprint": "g"}):
        plan = reuse_plan(basis, published, "r2")
        assert not plan["reused"] and plan["made_by"] == "r2", basis


def test_a_table_never_published_is_never_the_same() -> None:
    basis = {"tables": {"results": 4, "rejects": None}}
    assert not reuse_plan(basis, reuse_plan(basis, None, "r1"), "r2")["reused"]


def test_the_reports_basis_holds_its_tables_and_settings() -> None:
    basis = report_basis(TABLES, ReportingParams(), ProbeParams())
    published = reuse_plan(basis, None, "r1")
    assert reuse_plan(report_basis(dict(reversed(TABLES.items())), ReportingParams(), ProbeParams()), published,
                      "r2")["reused"]
    for other in (report_basis(TABLES, ReportingParams(gallery_queries=2), ProbeParams()),
                  report_basis(TABLES, ReportingParams(), ProbeParams(seed=1)),
                  report_basis({**TABLES, "results": 5}, ReportingParams(), ProbeParams())):
        assert not reuse_plan(other, published, "r2")["reused"]


def test_a_gated_step_runs_only_when_its_output_is_made_again() -> None:
    calls = []

    def step(first: int, second: int) -> int:
        calls.append((first, second))
        return first + second

    gated = unless_reused(step)
    assert gated(1, 2, {"reused": False}) == 3
    assert gated(1, 2, {"reused": True}) is UNCHANGED
    assert calls == [(1, 2)]
