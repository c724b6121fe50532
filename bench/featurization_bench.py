"""Featurization benchmark: the engine's raw ceiling vs. the real Kedro pipeline, in one run on the same images.

    python -m bench.featurization_bench --weights PATH [--sizes 1000 2000 4000] [--full] [--engine tflite]

1. Raw ceiling: the engine in-process on pre-decoded tensors, same image size and batch size, in the two ways
   the cores can be used (one process with all threads; one 1-thread process per core, as Spark runs it).
   Measured right before and right after each pipeline run: this VM's speed drifts by 2x within minutes, so
   each run's ratio is taken against the mean of the two ceilings measured next to it.
2. The real pipeline (`kedro run` in a throw-away copy of the project) on N real images of the full
   Fruits-360 Test set, for each N: stage times from the project's own hook, images/s, ratio to the ceiling,
   peak memory of the driver (Python + JVM) and of the Spark Python workers, CPU seconds of the JVM, the
   Python workers and the driver's Python (where the cores went), and the CPU share stolen by the hypervisor.
Prints a table and writes bench/results/<engine>-<time>.json. Timings come from here, never from tests.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from rich.console import Console
from rich.table import Table

from fruits.datasets import MobileNetV2Dataset
from fruits.engines import build_predictor, export_model
from fruits.images import decode_image
from tests.support.paths import FULL_SET, PROJECT_ROOT
from tests.support.project import copy_project

CEILING_SECONDS = 10.0
FULL_SET_SIZE = 20_622
console = Console(width=170)


def ceiling_worker(args: tuple[str, str, int, int, float]) -> int:
    """Images/s of one process: build the predictor like a Spark worker does, then run it for a fixed time."""
    weights, engine, threads, batch_size, seconds = args
    payload = export_model(MobileNetV2Dataset(weights=weights).load(), engine)
    predict = build_predictor(payload, threads=threads, batch_size=batch_size)
    files = sorted(FULL_SET.rglob("*.jpg"))[:batch_size]
    batch = np.stack([decode_image(path.read_bytes(), payload.image_size) for path in files])
    predict(batch)  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        predict(batch)
        done += len(batch)
    return round(done / (time.perf_counter() - start), 1)


def measure_ceiling(weights: str, engine: str, batch_size: int, cores: int) -> dict[str, float]:
    """Best of: one process with ``cores`` threads, and ``cores`` 1-thread processes side by side."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        threaded = pool.map(ceiling_worker, [(weights, engine, cores, batch_size, CEILING_SECONDS)])[0]
    with context.Pool(cores) as pool:
        per_process = pool.map(ceiling_worker, [(weights, engine, 1, batch_size, CEILING_SECONDS)] * cores)
    return {"one_process_all_threads": threaded, "one_thread_per_core": round(sum(per_process), 1),
            "ceiling": max(threaded, round(sum(per_process), 1))}


def busy_seconds(process: psutil.Process) -> float:
    """User + system CPU seconds of one process."""
    times = process.cpu_times()
    return times.user + times.system


class ResourceMonitor:
    """Samples this process tree twice a second: peak RSS of the driver (this Python + the Spark JVM) and of the
    Python workers, CPU seconds of each (where the cores went), and the share of CPU time the hypervisor stole."""

    def __init__(self) -> None:
        self.peak = {"driver_gib": 0.0, "workers_gib": 0.0}
        self.steal_share = 0.0
        self._cpu: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ResourceMonitor:
        me = psutil.Process()
        self._machine_start = psutil.cpu_times()
        self._baseline = {process.pid: busy_seconds(process) for process in [me, *me.children(recursive=True)]}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        end = psutil.cpu_times()
        total = sum(end) - sum(self._machine_start)
        self.steal_share = round((end.steal - self._machine_start.steal) / total, 3) if total else 0.0

    def cpu_seconds(self) -> dict[str, float]:
        groups = {"spark_jvm": 0.0, "python_workers": 0.0, "driver_python": 0.0}
        for group, seconds in self._cpu.values():
            groups[group] += seconds
        return {group: round(seconds, 1) for group, seconds in groups.items()}

    def _sample(self, process: psutil.Process, group: str) -> int:
        """CPU since the monitor started (the JVM outlives one Kedro session), and the RSS now."""
        self._cpu[process.pid] = (group, busy_seconds(process) - self._baseline.get(process.pid, 0.0))
        return process.memory_info().rss

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.5):
            driver, workers = self._sample(me, "driver_python"), 0
            for child in me.children(recursive=True):
                try:
                    if child.name() == "java":
                        driver += self._sample(child, "spark_jvm")
                    elif "pyspark" in " ".join(child.cmdline()):
                        workers += self._sample(child, "python_workers")
                except psutil.Error:
                    continue
            self.peak["driver_gib"] = max(self.peak["driver_gib"], round(driver / 2**30, 2))
            self.peak["workers_gib"] = max(self.peak["workers_gib"], round(workers / 2**30, 2))


def run_pipeline(project: Path, size: int, weights: str, engine: str) -> dict:
    """One `kedro run` in this process (the project's hook starts and stops Spark); returns the run summary."""
    bootstrap_project(project)
    sampling = {"strategy": "all"} if size >= FULL_SET_SIZE else {"strategy": "total", "size": size, "seed": 42}
    params = {"raw_images": str(FULL_SET), "weights": weights, "featurization": {"engine": engine},
              "sampling": sampling}
    started = time.perf_counter()
    with ResourceMonitor() as monitor, KedroSession.create(project_path=project, runtime_params=params) as session:
        session.run()
    wall = time.perf_counter() - started
    summary = json.loads((project / "data" / "08_reporting" / "run_summary.json").read_text())
    return {**summary, "wall_seconds": round(wall, 1), "peak_memory": monitor.peak,
            "cpu_seconds": monitor.cpu_seconds(), "steal_share": monitor.steal_share}


def phase_seconds(stages: dict[str, float]) -> dict[str, float]:
    """Seconds of the big phases of the pipeline, from its stage timings."""
    phases = {
        "loading": ["stratified_sample", "load_images"],
        "featurization": ["export_inference_model", "featurize_images"],
        "pca": ["fit_pca"],
        "writing": ["project_features", "collect_rejects"],
    }
    seconds = {phase: sum(stages.get(name, 0.0) for name in names) for phase, names in phases.items()}
    seconds["reporting"] = sum(stages.values()) - sum(seconds.values())  # every other node belongs to the report
    return seconds


def measure_run(project: Path, size: int, args: argparse.Namespace, cores: int) -> dict:
    """One pipeline run on ``size`` images between two ceiling measurements, as one row of the results."""
    before = measure_ceiling(args.weights, args.engine, args.batch_size, cores)
    console.print(f"[bold]Raw ceiling before[/] ({args.engine}, batch {args.batch_size}, {cores} cores, "
                  f"pre-decoded): {before}")
    console.print(f"[bold]kedro run[/] on {size} images...")
    summary = run_pipeline(project, size, args.weights, args.engine)
    after = measure_ceiling(args.weights, args.engine, args.batch_size, cores)
    console.print(f"[bold]Raw ceiling after[/]: {after}")
    ceiling = {"before": before, "after": after, "ceiling": round((before["ceiling"] + after["ceiling"]) / 2, 1)}
    stages = summary["stage_seconds"]
    total = sum(stages.values())
    featurize = stages["featurize_images"]
    phases = phase_seconds(stages)
    return {
        "images": summary["input_images"],
        "pipeline_seconds": round(total, 1),
        "end_to_end_images_per_s": round(summary["input_images"] / total, 1),
        "featurization_images_per_s": round(summary["input_images"] / featurize, 1),
        "ceiling": ceiling,
        "ratio_to_ceiling": round(summary["input_images"] / featurize / ceiling["ceiling"], 3),
        "pca_plus_writing_share": round((phases["pca"] + phases["writing"]) / total, 3),
        "time_share": {phase: round(seconds / total, 3) for phase, seconds in phases.items()},
        "export_seconds": stages["export_inference_model"],
        "cpu_seconds": summary["cpu_seconds"],
        "steal_share": summary["steal_share"],
        "images_inferred": summary["images_inferred"],
        "models_built": summary["models_built"],
        "accuracy": summary["classifier"]["accuracy"],
        "pca_k": summary["pca_k"],
        "peak_memory_gib": summary["peak_memory"],
        "stage_seconds": stages,
    }


def results_table(runs: list[dict], engine: str) -> Table:
    """One row per run: throughput, ratio to the ceiling, time shares, memory and CPU."""
    table = Table(title=f"Featurization benchmark, {engine}")
    for column in ("images", "pipeline s", "end-to-end img/s", "featurize img/s", "ceiling img/s", "ratio",
                   "PCA+write share", "load/feat/pca/write/report", "peak driver GiB", "peak workers GiB",
                   "CPU s JVM/workers/driver", "steal"):
        table.add_column(column, justify="right")
    for run in runs:
        share = run["time_share"]
        table.add_row(str(run["images"]), str(run["pipeline_seconds"]), str(run["end_to_end_images_per_s"]),
                      str(run["featurization_images_per_s"]), str(run["ceiling"]["ceiling"]),
                      f"{run['ratio_to_ceiling']:.2f}",
                      f"{run['pca_plus_writing_share']:.1%}",
                      " / ".join(f"{share[p]:.0%}" for p in ("loading", "featurization", "pca", "writing",
                                                               "reporting")),
                      str(run["peak_memory_gib"]["driver_gib"]), str(run["peak_memory_gib"]["workers_gib"]),
                      " / ".join(str(seconds) for seconds in run["cpu_seconds"].values()),
                      f"{run['steal_share']:.0%}")
    return table


def print_scaling(runs: list[dict]) -> None:
    """Marginal throughput between sizes: constant means linear in N, the rest is a fixed cost per run."""
    for smaller, larger in itertools.pairwise(runs):
        added = larger["images"] - smaller["images"]
        featurize = larger["stage_seconds"]["featurize_images"] - smaller["stage_seconds"]["featurize_images"]
        pipeline = larger["pipeline_seconds"] - smaller["pipeline_seconds"]
        console.print(f"Scaling {smaller['images']} -> {larger['images']}: featurization marginal "
                      f"{added / featurize:.1f} img/s, pipeline marginal {added / pipeline:.1f} img/s "
                      "(constant = linear in N; the rest is a fixed cost per run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="MobileNetV2 no-top weights file, or 'imagenet'")
    parser.add_argument("--engine", default="tflite", choices=["tflite", "keras"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    parser.add_argument("--full", action="store_true", help="also run all 20,622 images")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    sizes = [*args.sizes, FULL_SET_SIZE] if args.full else args.sizes
    cores = os.cpu_count() or 1

    project = copy_project(Path(tempfile.mkdtemp(prefix="fruits-bench-")), images=False)
    runs = [measure_run(project, size, args, cores) for size in sizes]
    shutil.rmtree(project, ignore_errors=True)
    console.print(results_table(runs, args.engine))
    print_scaling(runs)
    out = PROJECT_ROOT / "bench" / "results" / f"{args.engine}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {"cores": cores, "memory_gib": round(psutil.virtual_memory().total / 2**30)}
    out.write_text(json.dumps({"machine": machine, "engine": args.engine, "runs": runs}, indent=2))
    console.print(f"JSON: {out}")


if __name__ == "__main__":
    main()
