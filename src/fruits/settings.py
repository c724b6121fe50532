"""Project settings: hooks, and the configuration loader (fruits.config: its class and settings)."""

import os
import sys

from fruits import config
from fruits.hooks import PreflightHooks, ProgressHooks, RunHooks, RunMetricsHooks

# Off a terminal (CI, EMR step logs) rich lays logs out on 80 columns and splits long paths and commands mid-word.
if not sys.stdout.isatty():
    os.environ.setdefault("COLUMNS", "240")

# Last in, first out: the checks run first, then the run is opened (its folder, its Spark session); at the end,
# progress stops before the run is published, so that no progress line comes after the run's closing lines.
HOOKS = (RunMetricsHooks(), RunHooks(), ProgressHooks(), PreflightHooks())

CONFIG_LOADER_CLASS = config.ConfigLoader
CONFIG_LOADER_ARGS = config.CONFIG_LOADER_ARGS
