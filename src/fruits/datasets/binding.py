"""How datasets learn about the run in progress: the run hook binds it to every dataset that needs it, before the
first node runs. Outside ``kedro run`` (a notebook, ``kedro viz``) nothing is bound, and datasets read the
published state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import SparkSession

from fruits.publishing import Run
from fruits.spark import existing_spark


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


class SparkBound:
    """A dataset that needs the run's Spark session, not the run (the run hook binds it: :meth:`bind_spark`);
    unbound, it uses the session already running in the process."""

    _session: Callable[[], SparkSession] | None = None

    def bind_spark(self, session: Callable[[], SparkSession] | None) -> None:
        self._session = session

    def spark(self) -> SparkSession:
        return self._session() if self._session is not None else existing_spark()
