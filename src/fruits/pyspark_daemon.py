"""The daemon that forks Spark's Python workers (``spark.python.daemon.module``): PySpark's own, started with the
archives Spark puts first on the workers' path left out when PySpark is installed anyway.

Spark puts ``pyspark.zip``, py4j's zip and its 15 MB core jar first on every Python worker's path, and the worker
calls ``importlib.invalidate_caches()`` before each task, which makes Python 3.11 read those archives' directories
again (thousands of entries, in pure Python): on a small machine, more CPU per task than many tasks' own work.
Where the same PySpark is installed in the environment (pip, a venv), the archives add nothing; elsewhere (EMR,
whose nodes' venv has no PySpark: it is found only through them) the path is left as Spark set it.

Run by Spark as ``python -m fruits.pyspark_daemon``; it imports nothing but the standard library before the path is
settled, so that PySpark itself is imported from where it stays.
"""

from __future__ import annotations

import sys
from importlib.machinery import PathFinder

ARCHIVES = (".zip", ".jar")
PROVIDED = ("pyspark", "py4j")  # what the archives provide


def without_archives(path: list[str]) -> list[str]:
    """``path`` without its archives, when every package they provide is found without them; else as it is."""
    kept = [entry for entry in path if not entry.endswith(ARCHIVES)]
    if len(kept) == len(path) or not all(PathFinder.find_spec(name, kept) for name in PROVIDED):
        return path
    return kept


if __name__ == "__main__":
    kept = without_archives(sys.path)
    for entry in set(sys.path) - set(kept):
        sys.path_importer_cache.pop(entry, None)  # its importer: invalidate_caches() would read it again
    sys.path[:] = kept
    from pyspark.daemon import manager

    manager()
