"""Project hooks: checks before any slow work, the run (its folder, its Spark session, its publication, the lines
that end it), progress of long Spark work, and per-stage timings for the report."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import NoCredentialsError
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.core import DatasetError
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node
from pyspark import SparkContext
from pyspark.sql import SparkSession

import fruits
from fruits.datasets.binding import RunBound, RunContext, SparkBound
from fruits.datasets.table import TableDataset, vacuum
from fruits.latest import closing_lines
from fruits.params import PublishingParams, parameter_problems
from fruits.progress import INTERVAL_SECONDS, Progress, ProgressMonitor
from fruits.publishing import DataRoot, LegacyLayoutError, Run, prune, start_run
from fruits.spark import missing_jars, scratch_folders, start_spark_in_background, stop_spark, with_project_files

logger = logging.getLogger(__name__)

RUN_METRICS = "run_metrics"
RUN_INFO = "run_info"
INFERENCE_MODEL = "inference_model"
RAW_IMAGES = "raw_images"
PROGRESS = "progress"
# Datasets that no catalog file defines: the hooks below put them into the catalog of every run.
HOOK_DATASETS = (RUN_METRICS, RUN_INFO, PROGRESS)
RESUMING = ("from_nodes", "from_inputs")


def code_version(project_path: Path) -> str:
    """The package version, and the git commit when run from a checkout (clusters run the wheel)."""
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=project_path, capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"fruits {fruits.__version__}" + (f" ({commit})" if commit else "")


class PreflightHooks:
    """Everything that can be checked in a second is checked before any slow work, and reported in one sentence
    (``Error: ...``, no traceback): parameters, the input folder, the weights (environment variables: see
    :class:`fruits.config.ConfigLoader`)."""

    def __init__(self) -> None:
        self._context: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._context = context
        problems = parameter_problems(context.config_loader["parameters"])
        if problems:
            raise click.ClickException(
                f"Invalid parameters: {'; '.join(problems)}. Fix conf/*/parameters.yml or the --params value."
            )

    @hook_impl
    def before_pipeline_run(self, pipeline: Pipeline, catalog: DataCatalog) -> None:
        missing = missing_jars(with_project_files(self._context.config_loader["spark"], self._context.project_path))
        if missing:
            raise click.ClickException(
                f"Spark's jars are missing ({', '.join(missing)}): run `make setup`, which fetches them from Maven "
                "Central once (scripts/maven-jars.txt)."
            )
        if RAW_IMAGES in pipeline.inputs():
            self._check_raw_images(catalog)
        self._check_tables(catalog)
        if INFERENCE_MODEL in pipeline.inputs():
            try:
                catalog.load(INFERENCE_MODEL)  # the dataset keeps the model for the featurization node
            except DatasetError as error:
                raise click.ClickException(str(error.__cause__ or error)) from None

    @staticmethod
    def _check_tables(catalog: DataCatalog) -> None:
        """The published version of each table can be read (its Delta log is whole)."""
        checked = set()
        for _, dataset in catalog.items():
            if isinstance(dataset, TableDataset) and dataset.uri not in checked:
                checked.add(dataset.uri)
                problem = dataset.problem()
                if problem is not None:
                    raise click.ClickException(problem)

    @staticmethod
    def _check_raw_images(catalog: DataCatalog) -> None:
        """The input folder exists and has class folders (one listing of its top level). It is the run's first S3
        request: without AWS credentials the run stops here, in one sentence."""
        images = catalog.load(RAW_IMAGES)
        try:
            problem = images.problem()
        except NoCredentialsError:
            raise click.ClickException(
                f"No AWS credentials to read {images.root}: run `aws configure` (or `aws sso login`), or set "
                "AWS_PROFILE; on EMR the nodes' instance profile provides them."
            ) from None
        if problem is not None:
            raise click.ClickException(problem)


class RunHooks:
    """Each run writes into its own folder under the data root and commits to its tables; when the whole pipeline
    succeeded, one pointer object is written last and names it (publication), then the tables are vacuumed, run
    folders beyond ``publishing.keep_runs`` are pruned, and the run ends by saying where its results are.

    The run and its Spark session (started in the background while the first nodes run on the driver; a command
    that runs no pipeline starts no JVM) are handed to every dataset that needs them (:class:`RunBound`).

    Ctrl-C during a run ends it with one line (:meth:`_interrupted`), not py4j's and Java's stack traces.
    """

    def __init__(self) -> None:
        self._context: Any = None
        self._info: dict[str, Any] = {}
        self._run: Run | None = None
        self._spark: Future[SparkSession] | None = None
        self._bound: list[RunBound] = []
        self._spark_users: list[SparkBound] = []
        self._scratch: list[str] = []
        self._sigint: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._context = context

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self._info.clear()
        catalog[RUN_INFO] = MemoryDataset(data=self._info, copy_mode="assign")

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: DataCatalog) -> None:
        self._bound = [dataset for _, dataset in catalog.items() if isinstance(dataset, RunBound)]
        roots = {dataset.root_uri for dataset in self._bound}
        if len(roots) != 1:
            raise click.ClickException(f"The catalog's runs and tables must share one data root: {sorted(roots)}.")
        resume = any(run_params.get(name) for name in RESUMING)
        try:
            self._run = run = start_run(DataRoot(roots.pop()), resume)
        except LegacyLayoutError as error:
            raise click.ClickException(str(error)) from None
        self._sigint = signal.signal(signal.SIGINT, self._interrupted)  # hooks run in the main thread
        spark_conf = with_project_files(self._context.config_loader["spark"], self._context.project_path)
        self._spark = start_spark_in_background(spark_conf)
        self._spark.add_done_callback(self._note_scratch)
        for dataset in self._bound:
            dataset.bind(RunContext(run, self._spark.result))
        self._spark_users = [dataset for _, dataset in catalog.items() if isinstance(dataset, SparkBound)]
        for user in self._spark_users:
            user.bind_spark(self._spark.result)
        params = self._context.config_loader["parameters"]
        self._info.update(
            run_id=run.id,
            started_at=run.ledger.started_at,
            env=run_params["env"] or "local",
            code_version=code_version(Path(run_params["project_path"])),
            data_root=run.root.uri,
            raw_images=catalog.load(RAW_IMAGES).root,
            sampling=dict(params.get("sampling", {})),
            weights=str(params.get("weights") or self._context.config_loader["globals"].get("weights")),
            resumed=run.resumed,
        )

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self._run is None or self._spark is None:
            return
        changed = list(self._run.ledger.tables)
        self._run.publish()
        publishing = PublishingParams(**self._context.config_loader["parameters"].get("publishing", {}))
        vacuum(self._spark.result(), self._run.root.uri, publishing.vacuum_retention_hours, changed)
        root = self._run.root
        prune(root, publishing.keep_runs)
        self._end()
        click.echo("\n".join(closing_lines(root)))

    @hook_impl
    def on_pipeline_error(self) -> None:
        run = self._run
        if run is not None:
            logger.error("Run %s failed: nothing was published, %s still names run %s. `kedro run` starts afresh; "
                         "Kedro's suggested --from-nodes resumes this run.", run.id, run.root.join("current.json"),
                         run.base.run_id)
        self._end()

    def _note_scratch(self, session: Future[SparkSession]) -> None:
        """Asked while the JVM runs: on Ctrl-C it may already be shutting down."""
        if session.exception() is None:
            self._scratch = scratch_folders(session.result())

    def _interrupted(self, signum: int, frame: Any) -> None:
        """Ctrl-C: say what became of the run and how to go on, then end the process and its JVM at once, and
        delete the JVM's scratch (its shutdown would have). Nothing is lost that a published state needs: the
        pointer is written last, exactly as when a run is killed."""
        run = self._run
        published = (f"{run.root.join('current.json')} still names run {run.base.run_id}" if run and run.base.run_id
                     else "no run has been published yet")
        click.echo(f"Interrupted: nothing was published ({published}); run the same command again to go on, what is "
                   "already in the feature store is not featurized again.", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        quiet = os.open(os.devnull, os.O_WRONLY)
        for stream in (1, 2):  # that line is the last: pyspark's threads print stack traces as the JVM's sockets close
            os.dup2(quiet, stream)
        gateway = SparkContext._gateway
        if gateway is not None and getattr(gateway, "proc", None) is not None:
            gateway.proc.kill()  # the JVM would print its shutdown's stack traces
            gateway.proc.wait()
        for folder in self._scratch:
            shutil.rmtree(folder, ignore_errors=True)  # the JVM's own shutdown may have deleted some already
        os._exit(128 + signum)

    def _end(self) -> None:
        if self._sigint is not None:
            signal.signal(signal.SIGINT, self._sigint)
            self._sigint = None
        for dataset in self._bound:
            dataset.bind(None)
        for user in self._spark_users:
            user.bind_spark(None)
        if self._spark is not None:
            stop_spark(self._spark)
        self._run, self._spark, self._bound, self._spark_users, self._scratch = None, None, [], [], []


class ProgressHooks:
    """Logs the progress of each node's Spark work while it runs (its saves included: Spark is lazy), every
    ``$FRUITS_PROGRESS_SECONDS`` (10) seconds."""

    def __init__(self) -> None:
        self._monitor: ProgressMonitor | None = None
        self._progress = Progress()
        self._interval = float(os.environ.get("FRUITS_PROGRESS_SECONDS", INTERVAL_SECONDS))

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self._progress = Progress()
        catalog[PROGRESS] = MemoryDataset(data=self._progress, copy_mode="assign")

    def _stop(self) -> None:
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._stop()
        self._monitor = ProgressMonitor(node.name, self._progress, self._interval).start()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._stop()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._stop()


class RunMetricsHooks:
    """Measures each node's wall time from the loading of its inputs (a table's load reads its log) to the writes of
    its outputs (Spark is lazy: writes do the work), so that the stages add up to the run.

    The timings are exposed to the reporting pipeline as the in-memory dataset ``run_metrics`` (the report's stage
    table); the log has them at debug level only, so that a run ends with where its results are.
    """

    def __init__(self) -> None:
        self._stages: dict[str, float] = {}
        self._started: dict[str, float] = {}

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        self._stages.clear()
        self._started.clear()
        catalog[RUN_METRICS] = MemoryDataset(data={"stage_seconds": self._stages}, copy_mode="assign")

    @hook_impl
    def before_dataset_loaded(self, node: Node) -> None:
        self._started.setdefault(node.name, time.perf_counter())

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._started.setdefault(node.name, time.perf_counter())

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        self._record(node)

    @hook_impl
    def after_dataset_saved(self, node: Node) -> None:
        self._record(node)

    @hook_impl
    def after_pipeline_run(self) -> None:
        for name, seconds in self._stages.items():
            logger.debug("stage %-28s %8.1f s", name, seconds)

    def _record(self, node: Node) -> None:
        self._stages[node.name] = round(time.perf_counter() - self._started[node.name], 3)
