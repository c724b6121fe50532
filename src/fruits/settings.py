"""Project settings: hooks, and the config patterns that make ``spark*.yml`` loadable per environment."""

import os
import sys
import warnings

from omegaconf.resolvers import oc

from fruits.config import ConfigLoader
from fruits.hooks import PreflightHooks, ProgressHooks, RunHooks, RunMetricsHooks

# Kedro 1.7 itself calls the resolver API that omegaconf 2.4 deprecated: not actionable here.
warnings.filterwarnings("ignore", message="register_new_resolver\\(\\) is deprecated")

# Off a terminal (CI, EMR step logs) rich lays logs out on 80 columns and splits long paths and commands mid-word.
if not sys.stdout.isatty():
    os.environ.setdefault("COLUMNS", "240")

# Last in, first out: the checks run first, then the run is opened (its folder, its Spark session); at the end,
# progress stops before the run is published, so that no progress line comes after the run's closing lines.
HOOKS = (RunMetricsHooks(), RunHooks(), ProgressHooks(), PreflightHooks())

CONFIG_LOADER_CLASS = ConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Nested parameter dicts from an environment merge key by key instead of replacing the whole dict.
    "merge_strategy": {"parameters": "soft"},
    "config_patterns": {"spark": ["spark*", "spark*/**"]},
    # Lets globals.yml read FRUITS_BUCKET / FRUITS_PREFIX, so the cloud bucket needs no YAML edit.
    "custom_resolvers": {"oc.env": oc.env},
}
