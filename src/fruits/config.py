"""The project's configuration loader: Kedro's, with a missing environment variable reported in one sentence."""

from __future__ import annotations

import re
from typing import Any

import click
from kedro.config import OmegaConfigLoader
from omegaconf.errors import InterpolationResolutionError


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
