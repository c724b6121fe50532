"""The wheel's package configuration: every folder of data files is a listed package, so setuptools ships its
files without warning (at every `pip install`) that an importable folder is missing from `packages`."""

from __future__ import annotations

import sys
from pathlib import Path

from devkit.paths import PROJECT_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # Kedro installs tomli before Python 3.11
    import tomli as tomllib


def discovered_packages(root: Path, namespaces: bool) -> set[str]:
    """What setuptools' ``packages.find`` lists under ``root``: folders with an ``__init__.py``, or with
    ``namespaces``, every folder with an importable name (setuptools itself is not installed in every venv)."""
    return {
        ".".join(folder.relative_to(root).parts)
        for folder in root.rglob("*")
        if folder.is_dir() and all(part.isidentifier() for part in folder.relative_to(root).parts)
        and (namespaces or (folder / "__init__.py").is_file())
    }


def test_every_folder_of_package_data_is_a_discovered_package():
    setuptools = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    find = setuptools["packages"]["find"]
    source = PROJECT_ROOT / find["where"][0]
    packages = discovered_packages(source, find.get("namespaces", True))
    data_folders = {
        ".".join(path.parent.relative_to(source).parts)
        for path in (source / "fruits").rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    }
    assert data_folders == {"fruits.cloud.policies", "fruits.cloud.templates"}
    assert data_folders <= packages
    for package in data_folders:
        assert package in setuptools["package-data"], f"{package}'s files are not declared as package data"
