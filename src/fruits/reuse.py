"""Outputs made once per state of what they are made from. A node states its output's basis (``tables``: the
versions of the tables it reads, as this run left them; anything else: its settings) and compares it with the basis
of the published output: when they are equal, the published output stands and nothing is read to remake it.

Comparing with what the published output was made from, rather than with the published tables, keeps this right
after a partial run that changed a source table and not the output."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fruits.datasets.run import UNCHANGED, Unchanged


def reuse_plan(basis: dict[str, Any], previous_plan: dict[str, Any] | None, run_id: str) -> dict[str, Any]:
    """The plan of an output made from ``basis``: ``reused`` when the published output (its plan ``previous_plan``,
    None before the first) was made from the same, and ``made_by``, the run whose output stands. A table never
    published (version None) is never the same."""
    reused = (previous_plan is not None and previous_plan["basis"] == basis
              and None not in basis["tables"].values())
    return {"basis": basis, "reused": reused, "made_by": previous_plan["made_by"] if reused else run_id}


def unless_reused(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` as a node whose last input is a plan (:func:`reuse_plan`): when the plan reuses the published output,
    ``step`` does not run and its output stays as published (``UNCHANGED``)."""

    @functools.wraps(step)
    def node_function(*inputs: Any) -> Any | Unchanged:
        *arguments, plan = inputs
        return UNCHANGED if plan["reused"] else step(*arguments)

    return node_function
