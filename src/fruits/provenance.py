"""Which input a run's parts were made from: the image folder, the sampling settings and the model fingerprint.

A partial run (``kedro run --pipelines X``) combines what it computes with what earlier runs published; each part
records its input, and a node that combines parts refuses, in one sentence, parts of different inputs, so that no
report describes one folder with the counts of another. Parts published before inputs were recorded are not
checked.
"""

from __future__ import annotations

from typing import Any

COMPARED = ("raw_images", "sampling", "fingerprint")


def run_input(run_info: dict[str, Any]) -> dict[str, Any]:
    """The input this run is given (``--params raw_images=...``, ``sampling.*``)."""
    return {"raw_images": run_info["raw_images"], "sampling": dict(run_info["sampling"])}


def check_one_input(run_info: dict[str, Any], **parts: dict[str, Any] | None) -> None:
    """Every part (name: the input it records) was made from the input this run is given, and from one model."""
    known = [("this run", run_input(run_info)),
             *((f"the published {name.replace('_', ' ')}", part) for name, part in parts.items() if part is not None)]
    for key in COMPARED:
        having = [(name, part[key]) for name, part in known if key in part]
        for name, value in having[1:]:
            if value != having[0][1]:
                first, expected = having[0]
                raise ValueError(
                    f"{name[0].upper()}{name[1:]} was made with {key} {value!r}, but {first} has {expected!r}: "
                    "run the whole pipeline (`kedro run`) on one input, or give this partial run the --params of "
                    "the run that made its inputs."
                )
