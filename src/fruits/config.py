"""The project's configuration loader: Kedro's, with a missing environment variable reported in one sentence."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import click
from kedro.config import OmegaConfigLoader
from omegaconf.errors import InterpolationResolutionError
from omegaconf.resolvers import oc

# Kedro 1.7 itself calls the resolver API that omegaconf 2.4 deprecated: not actionable here.
warnings.filterwarnings("ignore", message="register_new_resolver\\(\\) is deprecated")

# The loader's settings (`settings.py` hands them to Kedro; :func:`load_config` uses them outside a Kedro session).
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Nested parameter dicts from an environment merge key by key instead of replacing the whole dict.
    "merge_strategy": {"parameters": "soft"},
    "config_patterns": {"spark": ["spark*", "spark*/**"]},
    # Lets globals.yml read FRUITS_BUCKET / FRUITS_PREFIX, so the cloud bucket needs no YAML edit.
    "custom_resolvers": {"oc.env": oc.env},
}


def missing_variable(error: Exception) -> str | None:
    """The environment variable an unresolved ``${oc.env:NAME}`` names, if that is what failed."""
    match = re.search(r"Environment variable '([^']+)' not found", str(error))
    return match.group(1) if match else None


class ConfigLoader(OmegaConfigLoader):
    """Globals are resolved when the loader is made, before any hook: an environment (conf/cloud) that needs a
    variable says which one to set, instead of a traceback."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except InterpolationResolutionError as error:
            name = missing_variable(error)
            if name is None:
                raise
            env = kwargs.get("env") or "local"
            raise click.ClickException(
                f"Environment variable {name} is not set, and the {env} environment needs it: "
                f"export {name}=... (see conf/{env}/globals.yml)."
            ) from None


def load_config(project: Path, env: str | None = None) -> ConfigLoader:
    """The configuration of the project at ``project`` for ``env`` (default: local) as `kedro run --env ENV` reads
    it, without a Kedro session: the project's commands, scripts, the benchmarks and the tests."""
    return ConfigLoader(conf_source=str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)
