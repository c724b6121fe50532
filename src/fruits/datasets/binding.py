"""How datasets learn about the run in progress: the run hook binds it to every dataset that needs it, before the
first node runs. Outside ``kedro run`` (a notebook, ``kedro viz``) nothing is bound, and datasets read the
published state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import SparkSession

from fruits.publishing import Run


@dataclass(frozen=True)
class RunContext:
    """The run in progress and its Spark session (started in the background: calling ``spark`` waits for it)."""

    run: Run
    spark: Callable[[], SparkSession]


class RunBound:
    """A dataset the run hook binds (:meth:`bind`); unbound, it describes the published state."""

    _context: RunContext | None = None
    _root_uri: str

    @property
    def root_uri(self) -> str:
        """The data root whose run this dataset belongs to."""
        return self._root_uri

    def bind(self, context: RunContext | None) -> None:
        self._context = context
