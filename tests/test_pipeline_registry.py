"""Fast checks of the wiring: every registered pipeline's free inputs exist in every environment's catalog."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from kedro.io import AbstractDataset, DataCatalog

from devkit.paths import PROJECT_ROOT
from fruits.config import ConfigLoader, load_config
from fruits.hooks import HOOK_DATASETS

ENVIRONMENTS = ("local", "cloud")


@pytest.fixture(scope="module", autouse=True)
def project() -> Iterator[None]:
    """The project configured as `kedro` does; Kedro's logging setup is undone afterwards (its handler would
    print library logs into other tests' captured output)."""
    handlers, level = logging.root.handlers[:], logging.root.level
    bootstrap_project(PROJECT_ROOT)
    yield
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


def config_loader(env: str) -> ConfigLoader:
    """The configuration exactly as `kedro run --env ENV` reads it (the project's loader settings)."""
    return load_config(PROJECT_ROOT, env)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_free_input_of_every_pipeline_is_provided(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRUITS_BUCKET", "a-bucket")
    loader = config_loader(env)
    catalog = DataCatalog.from_config(loader["catalog"])
    parameters = loader["parameters"]
    assert set(pipelines) == {"__default__", "ingestion", "featurization", "pca", "output", "reporting"}
    for name, pipeline in pipelines.items():
        for dataset in pipeline.inputs():
            if dataset.startswith("params:"):
                head, *rest = dataset.removeprefix("params:").split(".")
                value = parameters[head]
                for key in rest:
                    value = value[key]
            else:
                assert dataset in catalog or dataset in HOOK_DATASETS, f"{name}: {dataset} is provided by nothing"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_catalog_entry_is_used_by_the_default_pipeline(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRUITS_BUCKET", "a-bucket")
    used = pipelines["__default__"].datasets()
    unused = [name for name in config_loader(env)["catalog"] if not name.startswith("_") and name not in used]
    assert unused == []


TABLE_READERS = ("fruits.datasets.TableDataset", "fruits.datasets.TableChangesDataset")


def ancestors(pipeline, node) -> set:
    parents = pipeline.node_dependencies
    found, todo = set(), [node]
    while todo:
        for parent in parents[todo.pop()]:
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def test_every_reader_of_a_table_is_ordered_with_its_writers() -> None:
    """Several catalog entries name one table (the store and its index, the run's additions, its changes): a node
    reading any of them must run entirely before or after each node writing the table, or it would read a
    half-updated state."""
    catalog = config_loader("local")["catalog"]
    tables = {name: entry["table"] for name, entry in catalog.items()
              if not name.startswith("_") and entry.get("type") in TABLE_READERS}
    pipeline = pipelines["__default__"]
    for table in set(tables.values()):
        names = {name for name, owner in tables.items() if owner == table}
        writers = [node for node in pipeline.nodes if names & set(node.outputs)]
        readers = [node for node in pipeline.nodes if names & set(node.inputs)]
        assert writers, table
        for writer in writers:
            for reader in readers:
                if reader is writer:
                    continue  # a node reading a table it changes reads the state before its own change
                assert reader in ancestors(pipeline, writer) or writer in ancestors(pipeline, reader), (
                    f"{reader.name} reads {table} in no fixed order with {writer.name}, which writes it")


def test_the_viz_layers_follow_the_data_without_a_cycle() -> None:
    """kedro-viz orders the layers by the datasets' dependencies and greys its layer view out on a cycle (e.g. an
    intermediate dataset made from a feature dataset and feeding one): its own sorter finds the data's order."""
    from kedro_viz.services.layers import sort_layers  # noqa: PLC0415 - the viz extra, imported by this test only

    catalog = config_loader("local")["catalog"]
    layers = {name: entry.get("metadata", {}).get("kedro-viz", {}).get("layer") for name, entry in catalog.items()
              if not name.startswith("_")}
    graph: dict[str, set[str]] = {}
    for node in pipelines["__default__"].nodes:
        graph[node.name] = set(node.outputs)
        for dataset in node.inputs:
            graph.setdefault(dataset, set()).add(node.name)
        for dataset in node.outputs:
            graph.setdefault(dataset, set())
    nodes = {name: SimpleNamespace(layer=layers.get(name)) for name in graph}
    assert sort_layers(nodes, graph) == ["raw", "intermediate", "feature", "models", "model_output", "reporting"]


def test_the_class_counts_read_back_with_the_labels_written(tmp_path: Path) -> None:
    """A class folder may be named 001 or NA: the next node reads the report's counts with the same labels."""
    entry = config_loader("local")["catalog"]["class_counts"]["dataset"]
    dataset = AbstractDataset.from_config("class_counts", {**entry, "filepath": str(tmp_path / "counts.csv")})
    for labels in (["001", "010"], ["NA", "Kiwi"]):
        dataset.save(pd.DataFrame({"label": labels, "featurized": [1, 2]}))
        assert dataset.load()["label"].tolist() == labels
