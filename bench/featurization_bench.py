"""Benchmark: the project's whole `kedro run` against a plain process pool and the engine's raw ceiling, measured in
one invocation on the same images (this VM's speed drifts: only figures taken side by side are compared).

    python -m bench.featurization_bench [--sizes 2000] [--full] [--incremental] [--photos 200]

- raw ceiling: the TFLite model in-process on pre-decoded 224² images, one 1-thread process per core (as Spark runs
  it) and one process with all threads, the better of the two; before and after the runs.
- baseline: a plain Python process pool, one 1-thread LiteRT interpreter per core: list, read, decode, infer, write
  Parquet (what a user with one machine would write in 30 lines).
- Ray Data and Daft on the same job (``bench.frameworks``: same images, flatbuffer, decode and batch size, one
  1-thread interpreter per core, Parquet), in ``bench/.venv`` (``make bench`` installs ``bench/frameworks.txt``).
- the project: `kedro run` as a fresh process (imports, checks, JVM, pipeline, publication), with its phases, peak
  memory of the driver, the JVM and the Python workers, and CPU seconds of each.
- --full: all 20,622 images; --incremental (with --full): then a rerun with nothing new, then +1 % new images.
- --baseline REV: the project as it was at git revision REV, run on the same images in the same invocation (its
  own copy of src/ and conf/, this venv), for a before/after ratio.
- --photos N: N multi-megapixel EXIF-rotated JPEGs (generated once into bench/cache/) against N 100×100 images:
  per-image cost, and the cosine of draft-mode (reduced-scale) decoding against a full decode.

Prints tables and writes bench/results/<time>.json. Timings live here, never in tests.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image
from rich.console import Console
from rich.table import Table

from bench.frameworks import BATCH, feature_column, infer_files, predictor
from devkit.paths import FULL_SET, PROJECT_ROOT, shared_weights
from devkit.project import copy_project, published_json
from fruits.datasets.inference_model import InferenceModelDataset
from fruits.engines import ModelPayload, build_predictor
from fruits.images import decode_image

CEILING_SECONDS = 10.0
FULL_SET_SIZE = 20_622
PHOTO_SIZE = (4000, 3000)
LOGGING = PROJECT_ROOT / "bench" / "logging.yml"
CACHE = PROJECT_ROOT / "bench" / "cache"
FRAMEWORKS_PYTHON = PROJECT_ROOT / "bench" / ".venv" / "bin" / "python"
FRAMEWORKS = ("ray", "daft")
console = Console(width=170)


def model_payload(cache: Path) -> ModelPayload:
    """The same fp32 TFLite model the project runs (converted once, then read from the cache)."""
    return InferenceModelDataset(weights=str(shared_weights()), path=str(cache)).load()


# --- raw ceiling ----------------------------------------------------------------------------------------------------

def ceiling_worker(args: tuple[bytes, int, float]) -> float:
    """Images/s of one process on pre-decoded images, for a fixed time."""
    blob, threads, seconds = args
    predict = build_predictor(ModelPayload("tflite", 224, blob, "bench"), threads=threads, batch_size=BATCH)
    files = sorted(FULL_SET.rglob("*.jpg"))[:BATCH]
    batch = np.stack([decode_image(path.read_bytes(), 224) for path in files])
    predict(batch)  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        predict(batch)
        done += len(batch)
    return done / (time.perf_counter() - start)


def measure_ceiling(blob: bytes, cores: int) -> dict[str, float]:
    """Best of: ``cores`` 1-thread processes side by side, and one process with ``cores`` threads."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(cores) as pool:
        per_process = sum(pool.map(ceiling_worker, [(blob, 1, CEILING_SECONDS)] * cores))
    with context.Pool(1) as pool:
        threaded = pool.map(ceiling_worker, [(blob, cores, CEILING_SECONDS)])[0]
    return {"one_thread_per_core": round(per_process, 1), "one_process_all_threads": round(threaded, 1),
            "ceiling": round(max(per_process, threaded), 1)}


# --- the plain process pool -----------------------------------------------------------------------------------------

def pool_worker(args: tuple[list[str], str, str]) -> int:
    """Read, decode, infer and write Parquet for one share of the files, with one 1-thread interpreter."""
    files, output, model_file = args
    predict = predictor(model_file)
    vectors = np.concatenate([infer_files(predict, files[start:start + BATCH])
                              for start in range(0, len(files), BATCH)])
    pq.write_table(pa.table({"path": files, "features": feature_column(vectors)}), output)
    return len(files)


def run_pool(tree: Path, model_file: str, cores: int) -> dict[str, float]:
    """The baseline on every .jpg under ``tree``: wall time including listing and process start."""
    started = time.perf_counter()
    files = sorted(str(path) for path in tree.rglob("*.jpg"))
    shares = [files[index::cores] for index in range(cores)]
    with tempfile.TemporaryDirectory() as folder, multiprocessing.get_context("spawn").Pool(cores) as pool:
        done = sum(pool.map(pool_worker, [(share, f"{folder}/{index}.parquet", model_file)
                                          for index, share in enumerate(shares)]))
    seconds = time.perf_counter() - started
    return {"images": done, "seconds": round(seconds, 1), "images_per_s": round(done / seconds, 1)}


def run_framework(name: str, tree: Path, model_file: str, cores: int) -> dict[str, float]:
    """Ray Data or Daft on every .jpg under ``tree`` (bench.frameworks in bench/.venv), timed as the pool is."""
    run = subprocess.run([str(FRAMEWORKS_PYTHON), "-m", "bench.frameworks", name, str(tree), model_file, str(cores)],
                         cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": f"{PROJECT_ROOT / 'src'}:{PROJECT_ROOT}"},
                         capture_output=True, text=True, check=False)
    if run.returncode:
        raise RuntimeError(f"{name} failed:\n{run.stderr[-4000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


# --- the project ----------------------------------------------------------------------------------------------------

@dataclass
class Usage:
    """Peak memory (GiB) and CPU seconds of a process tree, by role."""

    peak_gib: dict[str, float] = field(default_factory=lambda: {"driver": 0.0, "jvm": 0.0, "workers": 0.0})
    cpu_seconds: dict[str, float] = field(default_factory=lambda: {"driver": 0.0, "jvm": 0.0, "workers": 0.0})


def role(process: psutil.Process, root: int) -> str:
    if process.pid == root:
        return "driver"
    return "jvm" if process.name() == "java" else "workers"


def watch(pid: int, usage: Usage, stop: threading.Event, track: list[tuple[float, dict[str, float]]]) -> None:
    """Sample the tree twice a second until ``stop``; ``track`` gets each sample's time and CPU seconds by role."""
    cpu: dict[int, tuple[str, float]] = {}
    root = psutil.Process(pid)
    while not stop.wait(0.5):
        memory = dict.fromkeys(usage.peak_gib, 0.0)
        try:
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        for process in processes:
            try:
                name = role(process, pid)
                memory[name] += process.memory_info().rss / 2**30
                times = process.cpu_times()
                cpu[process.pid] = (name, times.user + times.system + times.children_user + times.children_system)
            except psutil.Error:
                continue
        for name, gib in memory.items():
            usage.peak_gib[name] = round(max(usage.peak_gib[name], gib), 2)
        track.append((time.time(), cpu_by_role(cpu, usage.cpu_seconds)))
    usage.cpu_seconds.update(cpu_by_role(cpu, usage.cpu_seconds))


def cpu_by_role(cpu: dict[int, tuple[str, float]], roles: dict[str, float]) -> dict[str, float]:
    return {name: round(sum(seconds for owner, seconds in cpu.values() if owner == name), 1) for name in roles}


def node_cpu(track: list[tuple[float, dict[str, float]]], events: list[tuple[float, str]], node: str) -> dict:
    """CPU seconds of each role while ``node`` ran (between its log lines, to the half second the samples allow):
    what featurization itself costs the JVM and the Python workers, apart from the rest of the run."""
    start = next((stamp for stamp, text in events if f"Running node: {node}" in text), None)
    end = next((stamp for stamp, text in events if f"Completed node: {node}" in text), None)
    if start is None or end is None or not track:
        return {}
    before = next((sample for stamp, sample in reversed(track) if stamp <= start), track[0][1])
    after = next((sample for stamp, sample in track if stamp >= end), track[-1][1])
    return {name: round(after[name] - before[name], 1) for name in after}


def log_events(output: str) -> list[tuple[float, str]]:
    """(epoch seconds, message) of each log line (bench/logging.yml prints the epoch first)."""
    events = []
    for line in output.splitlines():
        stamp, _, message = line.partition(" ")
        try:
            events.append((float(stamp), message))
        except ValueError:
            continue
    return events


def phases(started: float, ended: float, events: list[tuple[float, str]]) -> dict:
    """Where a run's wall time went: imports, checks and model, the pipeline's nodes (the JVM starts meanwhile, in
    the background), publication and exit."""
    first = events[0][0]
    nodes_start = next(stamp for stamp, text in events if "Running node:" in text)
    nodes_end = next(stamp for stamp, text in reversed(events) if "Completed node:" in text)
    jvm = next(float(text.rsplit(" in ", 1)[1].split()[0]) for _, text in events if " started (master" in text)
    return {
        "wall": round(ended - started, 1),
        "imports": round(first - started, 1),
        "checks_and_model": round(nodes_start - first, 1),
        "pipeline_nodes": round(nodes_end - nodes_start, 1),
        "publish_and_exit": round(ended - nodes_end, 1),
        "jvm_start_in_background": round(jvm, 1),
    }


def kedro_run(project: Path, params: str) -> dict[str, Any]:
    """One `kedro run` as a fresh process; its summary, phases, memory and CPU."""
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "KEDRO_LOGGING_CONFIG": str(LOGGING),
                   "PYSPARK_PYTHON": sys.executable}
    usage, stop, track = Usage(), threading.Event(), []
    started = time.time()
    environment["PYTHONPATH"] = str(project / "src")  # the copy's own code (a baseline's is another revision)
    process = subprocess.Popen([sys.executable, "-m", "kedro", "run", "--params", params], cwd=project,
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watcher = threading.Thread(target=watch, args=(process.pid, usage, stop, track), daemon=True)
    watcher.start()
    output, _ = process.communicate()
    ended = time.time()
    stop.set()
    watcher.join()
    if process.returncode:
        raise RuntimeError(f"kedro run failed:\n{output[-4000:]}")
    summary = published_json(project / "data", "08_reporting/run_summary.json")
    events = log_events(output)
    return {"summary": summary, "phases": phases(started, ended, events), "usage": asdict(usage),
            "featurize_cpu_seconds": node_cpu(track, events, "featurize_images")}


@contextmanager
def fresh_project(cache: Path, revision: str | None = None) -> Iterator[Path]:
    """A throw-away project copy with the converted model already cached (as after a first run): of the working
    tree, or of the files a git ``revision`` had. Deleted afterwards: its data root holds a run's tables."""
    with tempfile.TemporaryDirectory(prefix="fruits-bench-project-") as folder:
        target = Path(folder)
        if revision is None:
            project = copy_project(target, images=False)
        else:
            archive = subprocess.run(["git", "archive", revision, "pyproject.toml", ".telemetry", "conf", "src"],
                                     cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
            (target / ".jars").symlink_to(PROJECT_ROOT / ".jars")
            project = target
        shutil.copytree(cache, project / "data" / "model_cache")
        yield project


def project_run(project: Path, tree: Path) -> dict[str, Any]:
    """The project on every image under ``tree``."""
    result = kedro_run(project, f"raw_images={tree},weights={shared_weights()}")
    summary = result["summary"]
    images = summary["counts"]["listed"]
    stages = summary["stage_seconds"]
    wall = result["phases"]["wall"]
    return {
        "images": images,
        "images_inferred": summary["featurization"]["images_inferred"],
        "end_to_end_images_per_s": round(images / wall, 1),
        "featurize_seconds": stages.get("featurize_images", 0.0),
        "pca_plus_writing_seconds": round(stages.get("fit_pca", 0) + stages.get("update_results", 0), 1),
        "pca": {key: summary["pca"][key] for key in ("refit", "k", "fitted_on_images", "fit_rows") if key in
                summary["pca"]},
        "probe_accuracy": summary["probe"].get("accuracy"),
        **result,
    }


# --- data sets ------------------------------------------------------------------------------------------------------

def sample_tree(size: int, target: Path) -> Path:
    """``size`` images of the full set, spread over its classes (copied: runs may add files)."""
    files = sorted(FULL_SET.rglob("*.jpg"))
    for path in files[:: max(1, len(files) // size)][:size]:
        destination = target / path.parent.name / path.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, destination)
    return target


def photo(source: Path, seed: int) -> bytes:
    """A 12 MP phone-like JPEG of a Fruits-360 image: upscaled, with sensor-like noise (about 2.6 MB, like a phone's
    JPEG), stored sideways with EXIF orientation 6, quality 90."""
    rng = np.random.default_rng(seed)
    upright = Image.open(source).convert("RGB").resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
    noisy = np.asarray(upright, dtype=np.int16) + rng.integers(-12, 13, size=(PHOTO_SIZE[1], PHOTO_SIZE[0], 3),
                                                                dtype=np.int16)
    sideways = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    sideways.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def photo_tree(count: int) -> Path:
    """``count`` multi-megapixel photos, generated once into bench/cache/ (kept: a few minutes to make)."""
    target = CACHE / f"photos-{count}"
    sources = sorted(FULL_SET.rglob("*.jpg"))[:: max(1, FULL_SET_SIZE // count)][:count]
    for index, source in enumerate(sources):
        destination = target / source.parent.name / f"photo {index}.jpg"
        if not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(photo(source, index))
    return target


def draft_cosines(tree: Path, blob: bytes) -> dict[str, dict[str, float]]:
    """Per draft margin: the cosine of each photo's features decoded at reduced scale against a full decode, and
    the decoding time per photo."""
    predict = build_predictor(ModelPayload("tflite", 224, blob, "bench"), threads=2, batch_size=1)
    photos = [path.read_bytes() for path in sorted(tree.rglob("*.jpg"))]
    full = [predict(decode_image(content, 224, None)[None])[0] for content in photos]
    result = {}
    for margin in (1, 2):
        started = time.perf_counter()
        pixels = [decode_image(content, 224, margin) for content in photos]
        milliseconds = (time.perf_counter() - started) / len(photos) * 1000
        cosines = [float(vector @ reference / (np.linalg.norm(vector) * np.linalg.norm(reference)))
                   for vector, reference in zip((predict(image[None])[0] for image in pixels), full, strict=True)]
        result[f"margin {margin}"] = {"min": round(min(cosines), 5), "mean": round(float(np.mean(cosines)), 5),
                                      "decode_ms": round(milliseconds, 1)}
    return result


# --- scenarios ------------------------------------------------------------------------------------------------------

def sized_scenario(size: int, tree: Path, cache: Path, model_file: str, cores: int,
                   revision: str | None = None) -> dict[str, Any]:
    """Ceiling, baseline, Ray Data, Daft and project (and the project at an earlier ``revision``) on the same
    images, the ceiling measured on both sides."""
    blob = Path(model_file).read_bytes()
    before = measure_ceiling(blob, cores)
    baseline = run_pool(tree, model_file, cores)
    frameworks = {name: run_framework(name, tree, model_file, cores) for name in FRAMEWORKS}
    console.print(f"[bold]{size} images[/]: ceiling {before['ceiling']} img/s, pool {baseline['images_per_s']} img/s, "
                  + ", ".join(f"{name} {run['images_per_s']} img/s" for name, run in frameworks.items()))
    with fresh_project(cache) as copy:
        project = project_run(copy, tree)
    earlier = None
    if revision:
        with fresh_project(cache, revision) as copy:
            earlier = project_run(copy, tree)
    after = measure_ceiling(blob, cores)
    ceiling = round((before["ceiling"] + after["ceiling"]) / 2, 1)
    if earlier is not None:
        console.print(f"  project {project['phases']['wall']:.1f} s, at {revision} {earlier['phases']['wall']:.1f} s "
                      f"(now / then {project['phases']['wall'] / earlier['phases']['wall']:.3f})")
    return {
        **({"revision": {"name": revision, "project": earlier,
                         "wall_ratio": round(project["phases"]["wall"] / earlier["phases"]["wall"], 3)}}
           if earlier else {}),
        "size": size,
        "ceiling": {"before": before, "after": after, "mean": ceiling},
        "baseline_pool": baseline,
        "frameworks": frameworks,
        "project": project,
        "ratio_to_pool": round(project["end_to_end_images_per_s"] / baseline["images_per_s"], 3),
        "ratio_to_frameworks": {name: round(project["end_to_end_images_per_s"] / run["images_per_s"], 3)
                                for name, run in frameworks.items()},
        "ratio_to_ceiling": round(project["end_to_end_images_per_s"] / ceiling, 3),
        "featurize_ratio_to_ceiling": round(size / project["featurize_seconds"] / ceiling, 3),
        "pca_plus_writing_share": round(project["pca_plus_writing_seconds"] / project["phases"]["wall"], 3),
    }


def incremental_scenario(tree: Path, cache: Path, revision: str | None = None) -> dict[str, Any]:
    """On one data root: a full run, a rerun with nothing new, then +1 % new images (the new files are removed
    afterwards, so that a ``revision`` sees the same tree); the same at ``revision`` when given."""
    with fresh_project(cache) as project:
        result = incremental_runs(tree, project)
    if revision:
        with fresh_project(cache, revision) as project:
            earlier = incremental_runs(tree, project)
        result["revision"] = {"name": revision, **earlier}
        for key in ("full", "unchanged", "plus_one_percent"):
            now, then = result[key]["phases"]["wall"], earlier[key]["phases"]["wall"]
            console.print(f"  {key}: {now:.1f} s, at {revision} {then:.1f} s (now / then {now / then:.3f})")
    return result


def incremental_runs(tree: Path, project: Path) -> dict[str, Any]:
    """A full run, an unchanged rerun and a +1 % run of one project copy on ``tree``."""
    full = project_run(project, tree)
    unchanged = project_run(project, tree)
    files = sorted(tree.rglob("*.jpg"))
    added = [path.parent / f"new {index}.jpg" for index, path in enumerate(files[:: 100][: len(files) // 100])]
    for source, copy in zip(files[:: 100], added):
        shutil.copy(source, copy)
    plus_one = project_run(project, tree)
    for copy in added:
        copy.unlink()
    return {"full": full, "unchanged": unchanged, "plus_one_percent": plus_one, "added": len(added),
            "unchanged_seconds": unchanged["phases"]["wall"],
            "unchanged_share_of_full": round(unchanged["phases"]["wall"] / full["phases"]["wall"], 3),
            "plus_one_percent_share_of_full": round(plus_one["phases"]["wall"] / full["phases"]["wall"], 3)}


def photo_scenario(count: int, cache: Path, small_folder: Path, model_file: str, cores: int) -> dict[str, Any]:
    """Per-image cost of multi-megapixel photos against small images (copied into ``small_folder``), in the pool and
    in the project."""
    photos = photo_tree(count)
    small = sample_tree(count, small_folder)
    result = {"count": count, "photo_mb": round(sum(path.stat().st_size for path in photos.rglob("*.jpg"))
                                                 / count / 1e6, 2)}
    for name, tree in (("photos", photos), ("small", small)):
        with fresh_project(cache) as project:
            run = project_run(project, tree)
        result[name] = {"pool": run_pool(tree, model_file, cores), "project_wall": run["phases"]["wall"],
                        "project_featurize_seconds": run["featurize_seconds"]}
    pools = result["small"]["pool"], result["photos"]["pool"]
    result["pool_cost_ratio"] = round(pools[0]["images_per_s"] / pools[1]["images_per_s"], 2)
    result["project_featurize_cost_ratio"] = round(result["photos"]["project_featurize_seconds"]
                                                   / result["small"]["project_featurize_seconds"], 2)
    result["draft_cosine"] = draft_cosines(photos, Path(model_file).read_bytes())
    return result


# --- output ---------------------------------------------------------------------------------------------------------

def sized_table(results: list[dict[str, Any]]) -> Table:
    table = Table(title="Whole kedro run vs plain process pool vs raw ceiling (img/s)")
    for column in ("images", "ceiling", "pool", *FRAMEWORKS, "project", "vs pool",
                   *(f"vs {name}" for name in FRAMEWORKS), "vs ceiling", "featurize vs ceiling",
                   "PCA+write", "imports/checks/nodes/rest s (JVM)", "peak GiB driver/JVM/workers",
                   "CPU s JVM/workers (featurizing)"):
        table.add_column(column, justify="right")
    for item in results:
        project, phase = item["project"], item["project"]["phases"]
        table.add_row(
            f"{item['size']:,}", str(item["ceiling"]["mean"]), str(item["baseline_pool"]["images_per_s"]),
            *(str(item["frameworks"][name]["images_per_s"]) for name in FRAMEWORKS),
            str(project["end_to_end_images_per_s"]), f"{item['ratio_to_pool']:.2f}",
            *(f"{item['ratio_to_frameworks'][name]:.2f}" for name in FRAMEWORKS), f"{item['ratio_to_ceiling']:.2f}",
            f"{item['featurize_ratio_to_ceiling']:.2f}", f"{item['pca_plus_writing_share']:.1%}",
            " / ".join(str(phase[key]) for key in ("imports", "checks_and_model", "pipeline_nodes", "publish_and_exit"))
            + f" ({phase['jvm_start_in_background']})",
            " / ".join(str(value) for value in project["usage"]["peak_gib"].values()),
            " / ".join(f"{project['usage']['cpu_seconds'][role]} ({project['featurize_cpu_seconds'].get(role)})"
                       for role in ("jvm", "workers")),
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000])
    parser.add_argument("--full", action="store_true", help="also all 20,622 images")
    parser.add_argument("--incremental", action="store_true", help="with --full: unchanged rerun, then +1 %% new")
    parser.add_argument("--photos", type=int, default=0, help="multi-megapixel photos against small images")
    parser.add_argument("--baseline", help="also run the project as it was at this git revision (before/after)")
    args = parser.parse_args()
    if not FRAMEWORKS_PYTHON.is_file():
        parser.error(f"Ray Data and Daft run with {FRAMEWORKS_PYTHON}: run `make bench`, which installs "
                     "bench/frameworks.txt there.")
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    with tempfile.TemporaryDirectory(prefix="fruits-bench-") as scratch:
        report = measure(args, Path(scratch))
    console.print(sized_table(report["sized"]))
    for key in ("incremental", "photos"):
        if key in report:
            console.print_json(json.dumps({k: v for k, v in report[key].items() if not isinstance(v, dict)
                                           or k in ("draft_cosine",)}))
    out = PROJECT_ROOT / "bench" / "results" / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    console.print(f"JSON: {out}")


def measure(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Every scenario ``args`` asks for, with the image trees, model and project copies under ``scratch``."""
    cores = os.cpu_count() or 1
    cache = scratch / "model_cache"
    model_file = str(scratch / "model.tflite")
    Path(model_file).write_bytes(model_payload(cache).blob)
    report: dict[str, Any] = {"machine": {"cores": cores, "memory_gib": round(psutil.virtual_memory().total / 2**30),
                                          "cpu": platform_cpu()}, "sized": []}
    for size in args.sizes:
        tree = sample_tree(size, scratch / f"sample-{size}")
        report["sized"].append(sized_scenario(size, tree, cache, model_file, cores, args.baseline))
    if args.full:
        full_tree = scratch / "full" / "Test"
        shutil.copytree(FULL_SET, full_tree)
        report["sized"].append(sized_scenario(FULL_SET_SIZE, full_tree, cache, model_file, cores, args.baseline))
        if args.incremental:
            report["incremental"] = incremental_scenario(full_tree, cache, args.baseline)
    if args.photos:
        report["photos"] = photo_scenario(args.photos, cache, scratch / "small", model_file, cores)
    return report


def platform_cpu() -> str:
    """The CPU model, as the machine describes itself (figures only compare within one machine)."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
