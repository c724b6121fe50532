"""Progress lines only for work long enough to need them."""

from __future__ import annotations

import pytest

from fruits.progress import Progress, ProgressMonitor, progress_line, worth_a_line


@pytest.mark.parametrize(
    ("done", "total", "shown"),
    [
        (0, 349, False),  # before the first task ends: "0 / 349 images (0%), 0 images/s" says nothing
        (349, 349, False),  # the node's own line follows at once
        (0, 2, False),  # a count of two Spark tasks ends before a line could help
        (1, 2, False),
        (120, 349, True),
        (1, 3, True),
    ],
)
def test_a_line_only_while_work_of_some_size_is_under_way(done: int, total: int, shown: bool) -> None:
    assert worth_a_line(done, total) is shown


def test_the_monitor_reports_announced_work_only_while_it_is_under_way(spark) -> None:
    progress = Progress()
    counter = spark.sparkContext.accumulator(0)
    progress.expect(349, counter, unit="images")
    monitor = ProgressMonitor("featurize_images", progress)
    assert monitor._line(5.0) is None
    counter.add(120)
    assert monitor._line(5.0) == progress_line("featurize_images", 120, 349, "images", 5.0)
    counter.add(229)
    assert monitor._line(10.0) is None


def test_the_line_says_done_total_rate_and_eta() -> None:
    assert progress_line("featurize_images", 4_000, 20_622, "images", 26.3) == (
        "featurize_images: 4,000 / 20,622 images (19%), 152 images/s, ETA 1 min 49 s"
    )
