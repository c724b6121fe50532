"""A run of a data root for the duration of a test, bound to datasets as the project's run hook binds it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from fruits.datasets.binding import RunBound, RunContext
from fruits.publishing import DataRoot, Run, start_run
from fruits.spark import existing_spark

Bound = TypeVar("Bound", bound=RunBound)


@contextmanager
def run_scope(root_uri: str, resume: bool = False) -> Iterator[Run]:
    """A started run (published by the test when it wants, with ``run.publish()``)."""
    yield start_run(DataRoot(root_uri), resume)


def bound(dataset: Bound, run: Run) -> Bound:
    """``dataset`` bound to ``run``, with the test's Spark session (the ``spark`` fixture's, if any)."""
    dataset.bind(RunContext(run, existing_spark))
    return dataset
