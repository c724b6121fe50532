"""Progress of long Spark work as log lines (done / total, rate, ETA): readable in a terminal and in an EMR step
log alike, where Spark's own console bar is either noise between log lines or absent.

A node that knows its total announces it on the run's :class:`Progress` (a dataset the hook hands to it: the
featurization, in images counted by an accumulator that grows as tasks finish); otherwise the Spark tasks of the
running job are counted. Work too short to need it logs nothing: nothing done yet, everything done (the node's
own line follows), or a job of one or two tasks.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from pyspark import Accumulator, SparkContext

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 10.0
SHORT_JOB_TASKS = 2  # a job of this many tasks or fewer ends before a progress line would say anything


@dataclass
class _Expected:
    total: int
    counter: Accumulator
    unit: str


class Progress:
    """What the running node announced about its work; the node's monitor reads it (one node runs at a time)."""

    def __init__(self) -> None:
        self.expected: _Expected | None = None

    def expect(self, total: int, counter: Accumulator, unit: str) -> None:
        """The current node will run ``total`` units, ``counter`` counting the finished ones."""
        self.expected = _Expected(total, counter, unit)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def progress_line(label: str, done: int, total: int, unit: str, elapsed: float) -> str:
    """``featurize_images: 4,000 / 20,622 images (19%), 152 images/s, ETA 1 min 49 s``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = f", ETA {_duration((total - done) / rate)}" if rate > 0 and done < total else ""
    share = f" ({done / total:.0%})" if total else ""
    return f"{label}: {done:,} / {total:,} {unit}{share}, {rate:,.0f} {unit}/s{eta}"


def worth_a_line(done: int, total: int) -> bool:
    """A progress line says something only while work is under way, on work of more than a couple of units: not
    ``0 / 349`` before the first task ends, not ``349 / 349`` just before the node says it is done, not ``0 / 2``
    on a small count."""
    return total > SHORT_JOB_TASKS and 0 < done < total


class ProgressMonitor:
    """Logs the progress of the Spark work started by one node, every ``interval`` seconds, until stopped."""

    def __init__(self, label: str, progress: Progress, interval: float = INTERVAL_SECONDS) -> None:
        self._label = label
        self._progress = progress
        self._interval = interval
        self._stop = threading.Event()
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name=f"progress-{label}", daemon=True)

    def start(self) -> ProgressMonitor:
        self._progress.expected = None
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                line = self._line(time.perf_counter() - self._started)
            except Exception:  # progress is best effort: it must never end a run (e.g. Spark still starting)
                logger.debug("No progress to report", exc_info=True)
                continue
            if line:
                logger.info(line)

    def _line(self, elapsed: float) -> str | None:
        expected = self._progress.expected
        if expected is not None:
            done = int(expected.counter.value)
            if not worth_a_line(done, expected.total):
                return None
            return progress_line(self._label, done, expected.total, expected.unit, elapsed)
        context = SparkContext._active_spark_context
        if context is None or getattr(context, "_jsc", None) is None:  # none, or still starting
            return None
        tracker = context.statusTracker()
        stages = [tracker.getStageInfo(stage) for stage in tracker.getActiveStageIds()]
        stages = [stage for stage in stages if stage is not None]
        done = sum(stage.numCompletedTasks for stage in stages)
        total = sum(stage.numTasks for stage in stages)
        if not worth_a_line(done, total):
            return None
        return progress_line(self._label, done, total, "Spark tasks", elapsed)
