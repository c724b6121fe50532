"""A run of the data root active for the duration of a test, as the project's hooks make one around `kedro run`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fruits.publishing import ACTIVE, DataRoot, Run, start_run


@contextmanager
def run_scope(root_uri: str, resume: bool = False) -> Iterator[Run]:
    ACTIVE.run = start_run(DataRoot(root_uri), resume)
    try:
        yield ACTIVE.run
    finally:
        ACTIVE.run = None
