"""The cluster's wheels, resolved here for its platform and installed there from the bucket (`--no-index`).

Every node would otherwise download about 2 GiB from PyPI at every start (billed minutes, and impossible from a
private subnet without internet). The nodes run CPython 3.11 on Amazon Linux 2023 (glibc 2.34, x86_64) and build
nothing, so the wheelhouse holds, for every distribution the wheel's requirements need (their closure, markers
evaluated for the nodes), the lock file's version as a wheel for that platform: downloaded with
``pip download --no-deps --only-binary=:all: --platform ... --python-version 3.11``, or, for a pure-Python project
that publishes only a source archive (docopt, which hdfs needs), built here into a ``py3-none-any`` wheel.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from fruits.cloud.aws import CloudError

PYTHON_VERSION = "3.11"  # emr-7.x's python3.11, which the bootstrap builds the venv on
GLIBC_MINOR = 34  # Amazon Linux 2023, the OS of emr-7.x
# manylinux2014 is glibc 2.17 (pip adds manylinux2010 and manylinux1 to it); newer wheels carry manylinux_2_X tags,
# which pip matches only when named, so every glibc from 2.17 to the nodes' own is listed.
PLATFORMS = ("manylinux2014_x86_64", *(f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC_MINOR, 16, -1)))
# The nodes' marker environment (PEP 508).
NODE_ENVIRONMENT = {
    "python_version": PYTHON_VERSION,
    "python_full_version": f"{PYTHON_VERSION}.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
}
FOLDER = "wheelhouse"
# `pip freeze` leaves these out of the lock file: their version is this environment's.
FREEZE_EXCLUDED = frozenset({"pip", "setuptools", "wheel"})
NO_WHEEL = re.compile(r"Could not find a version that satisfies the requirement ([A-Za-z0-9._-]+)==")


def pins(lock: Path) -> dict[str, str]:
    """``name==version`` lines of the lock file, by canonical name."""
    found = {}
    for line in lock.read_text().splitlines():
        pin = line.split("#", 1)[0].strip()
        if "==" in pin:
            requirement = Requirement(pin)
            found[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
    return found


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**NODE_ENVIRONMENT, "extra": extra}) for extra in extras or {""})


def closure(requirements: list[Requirement], lock: dict[str, str]) -> dict[str, str]:
    """Every distribution the requirements need on the nodes, at its locked version (dependencies read from the
    installed distributions, which the lock file pins: it is this environment's `pip freeze`)."""
    needed: dict[str, str] = {}
    unpinned: set[str] = set()
    pending = [(requirement, set(requirement.extras)) for requirement in requirements if _applies(requirement, set())]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        if (name in needed or name in unpinned) and not extras:
            continue
        if name in lock or name in FREEZE_EXCLUDED:
            needed[name] = lock.get(name) or metadata.version(name)
        else:
            unpinned.add(name)
        for line in metadata.distribution(name).requires or []:
            dependency = Requirement(line)
            if _applies(dependency, extras):
                pending.append((dependency, set(dependency.extras)))
    if unpinned:
        raise CloudError(
            f"{', '.join(sorted(unpinned))} needed on the cluster but not pinned in requirements.lock: regenerate it "
            "(fresh venv, pip install -e '.[dev]', pip freeze --exclude-editable)."
        )
    return needed


def download_command(pinned: list[str], destination: Path) -> list[str]:
    """One `pip download` of exact versions, without their dependencies (already in the list), for the nodes."""
    platforms = [option for platform in PLATFORMS for option in ("--platform", platform)]
    return [
        sys.executable, "-m", "pip", "download", "--no-deps",
        "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp", *platforms,
        "--dest", str(destination), "--disable-pip-version-check", "--progress-bar", "off", *pinned,
    ]  # fmt: skip


def _pip(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _build_pure_wheel(pin: str, destination: Path) -> None:
    """A project with no wheel on PyPI: build it here; only a pure-Python result runs on the nodes as is."""
    result = _pip([sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(destination), pin])
    name = pin.split("==", maxsplit=1)[0]
    built = [path for path in destination.glob("*.whl") if canonicalize_name(path.name.split("-")[0]) == name]
    if result.returncode != 0 or not built or not all(path.name.endswith("-none-any.whl") for path in built):
        raise CloudError(
            f"{pin} has no wheel for the cluster (CPython {PYTHON_VERSION}, manylinux x86_64) and does not build "
            "into a pure-Python one: pin a version that publishes manylinux wheels."
        )


def resolve(requirements: Path, lock: Path, destination: Path) -> list[Path]:
    """The cluster's wheels in ``destination`` (files pip already has there are kept); returns them all.

    A distribution without a usable wheel stops here in one sentence, not on the cluster after the instances have
    booted.
    """
    destination.mkdir(parents=True, exist_ok=True)
    wanted = [Requirement(line) for line in requirements.read_text().splitlines() if line.strip()]
    todo = [f"{name}=={version}" for name, version in sorted(closure(wanted, pins(lock)).items())]
    while todo:
        result = _pip(download_command(todo, destination))
        if result.returncode == 0:
            break
        missing = NO_WHEEL.search(result.stderr)
        if missing is None:
            reason = next((line for line in result.stderr.splitlines() if line.startswith("ERROR")), result.stderr)
            raise CloudError(f"pip could not download the cluster's wheels: {reason.strip()}")
        pin = next(pin for pin in todo if canonicalize_name(pin.split("==")[0]) == canonicalize_name(missing[1]))
        _build_pure_wheel(pin, destination)
        todo.remove(pin)
    return sorted(destination.glob("*.whl"))
