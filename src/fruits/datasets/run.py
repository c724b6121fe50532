"""Any Kedro dataset, written under the current run's folder and read through the published pointer."""

from __future__ import annotations

import inspect
from typing import Any

from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from kedro_datasets._typing import TablePreview

from fruits.datasets.binding import RunBound
from fruits.publishing import DataRoot, Run


class Unchanged:
    """What a node returns for an output it decided not to recompute: the current version stays current.

    Saving it writes nothing; readers keep reading the published version (e.g. a reused PCA model).
    """

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = Unchanged()


class RunDataset(RunBound, AbstractDataset[Any, Any]):
    """Wraps a dataset definition (``dataset:``) whose file lives at ``run_path`` inside each run's folder of the
    data root ``path``.

    - save: to ``<path>/runs/<run id>/<run_path>``, recorded in the run's ledger (published when the run succeeds);
    - load: the version this run wrote, else the published one (``current.json``); ``published: true`` always reads
      the version the run started from (the previous run's output, to compare with), None before the first run.
    """

    def __init__(
        self,
        *,
        path: str,
        run_path: str,
        dataset: dict[str, Any],
        published: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._root_uri = path
        self._path = run_path
        self._dataset = dataset
        self._published = published
        self.metadata = metadata

    def _inner(self, location: str) -> AbstractDataset:
        config = {**self._dataset, "filepath": DataRoot(self._root_uri).join(location)}
        return AbstractDataset.from_config(self._path, config)

    def _run(self) -> Run | None:
        return self._context.run if self._context else None

    def _location(self) -> str | None:
        run = self._run()
        if run is None:
            return DataRoot(self._root_uri).published().datasets.get(self._path)
        if self._published:
            return run.base.datasets.get(self._path)
        return run.dataset_location(self._path)

    def load(self) -> Any:
        location = self._location()
        if location is None:
            if self._published:
                return None
            raise DatasetError(
                f"Nothing has been published for {self._path} under {self._root_uri} yet: run `kedro run` first."
            )
        return self._inner(location).load()

    def save(self, data: Any) -> None:
        if self._published:
            raise DatasetError(f"The published {self._path} is read-only: it is what the previous run wrote.")
        run = self._run()
        if run is None:
            raise DatasetError(f"{self._path} is written by `kedro run` only (each run writes into its own folder).")
        if isinstance(data, Unchanged):
            if run.dataset_location(self._path) is None:
                raise DatasetError(f"{self._path} was kept unchanged, but no version of it was ever written.")
            return
        location = run.location(self._path)
        self._inner(location).save(data)
        run.record_dataset(self._path, location)

    def _exists(self) -> bool:
        return self._location() is not None

    def _describe(self) -> dict[str, Any]:
        return {"path": self._root_uri, "run_path": self._path, "dataset": self._dataset.get("type"),
                "published": self._published}

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first rows of the published version of a table (Parquet, CSV), for
        ``kedro viz build --include-previews``; other outputs (plots, JSON) show an empty table."""
        location = self._location()
        inner = self._inner(location) if location is not None else None
        if inner is None or _preview_kind(inner) != "TablePreview":
            return TablePreview({"columns": [], "data": []})
        return printable(inner.preview(nrows=nrows))


def printable(table: dict[str, Any]) -> TablePreview:
    """A table preview whose cells all serialise: a vector (a list column read back as an array) is shown as its
    length, as kedro-viz cannot encode arrays."""
    def cell(value: Any) -> Any:
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        return f"[{len(value)} values]" if hasattr(value, "__len__") else str(value)

    return TablePreview({**table, "data": [[cell(value) for value in row] for row in table["data"]]})


def _preview_kind(dataset: AbstractDataset) -> str | None:
    """The preview type a dataset declares (kedro-viz reads the same annotation)."""
    if not hasattr(dataset, "preview"):
        return None
    annotation = inspect.signature(dataset.preview).return_annotation
    return getattr(annotation, "__name__", str(annotation))
