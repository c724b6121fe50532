"""The two test tiers, and the guard that keeps the unit tier fast.

A test is ``integration`` when it needs something that takes seconds to start: a JVM (the ``spark`` fixture), a moto
server, the real weights, TensorFlow, a subprocess (``kedro run`` as users run it). Every other test is ``unit``.
The tier follows from the fixtures a test uses; a test that starts one of these things by itself carries
``@pytest.mark.integration``. The guard turns a forgotten mark into a failure instead of a slow unit tier.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

# Fixtures that start a JVM, a moto server (the cloud tests' autouse ``aws`` fixture uses ``moto_url``) or read the
# real weights; pytest lists the fixtures a test uses directly, through other fixtures, and autouse ones.
INTEGRATION_FIXTURES = frozenset({"spark", "moto_url", "real_weights"})
# Modules whose import takes seconds; the unit tier never imports them.
HEAVY_MODULES = ("tensorflow", "keras")
# Audit events of a new process: subprocess and os.system are how Spark starts its JVM and tests run `kedro`.
SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.posix_spawn", "os.spawn", "os.exec", "os.fork"})
MARK_HINT = "mark it @pytest.mark.integration, or keep it off subprocesses, TensorFlow and Spark"


def is_integration(item: pytest.Item) -> bool:
    """What the tier of a collected test is decided by: its marks, then the fixtures it uses."""
    if item.get_closest_marker("integration") or item.get_closest_marker("slow"):
        return True
    return not INTEGRATION_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def mark_tiers(items: list[pytest.Item]) -> None:
    """Every test gets ``unit`` or ``integration``, so that ``-m unit`` selects exactly the fast tier."""
    for item in items:
        item.add_marker(pytest.mark.integration if is_integration(item) else pytest.mark.unit)


def heavy_modules() -> list[str]:
    """The slow-to-start things present in this process: TensorFlow or Keras imported, a Spark JVM running."""
    found = [name for name in HEAVY_MODULES if name in sys.modules]
    context = sys.modules.get("pyspark.context")
    if context is not None and context.SparkContext._gateway is not None:
        found.append("a Spark JVM")
    return found


class UnitGuard:
    """Records what a unit test started: a process (Spark's JVM is one), TensorFlow or Keras.

    An audit hook sees every new process of this interpreter; it cannot be removed, so it only records while a unit
    test runs (setup, call and teardown).
    """

    def __init__(self) -> None:
        self.watching = False
        self.started: list[str] = []
        self._modules_before: set[str] = set()
        sys.addaudithook(self._audit)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if self.watching and event in SPAWN_EVENTS:
            command = args[1] if event == "subprocess.Popen" else args[0] if args else ""
            self.started.append(f"a process ({event}: {command!r:.120})")

    def start(self) -> None:
        self.watching, self.started = True, []
        self._modules_before = {name for name in HEAVY_MODULES if name in sys.modules}

    def stop(self) -> list[str]:
        """What was started since ``start``: one entry per process or module."""
        self.watching = False
        imported = [f"{name} (imported)" for name in HEAVY_MODULES if name in sys.modules and name not in
                    self._modules_before]
        return [*self.started, *imported]
