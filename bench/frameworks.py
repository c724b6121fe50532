"""Ray Data and Daft on the plain pool's job, for the benchmark: the same images, TFLite flatbuffer, Pillow decode
and batch size, one 1-thread interpreter per core, each framework writing Parquet.

    bench/.venv/bin/python -m bench.frameworks {ray,daft} TREE MODEL_FILE CORES

Run by ``bench.featurization_bench`` with the interpreter of ``bench/.venv`` (``make bench`` installs
``bench/frameworks.txt`` there: Daft needs a pyarrow older than the project's). Prints one JSON line: images,
seconds (listing and the framework's start included, as the pool's include its processes' start), images/s.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fruits.engines import ModelPayload, build_predictor
from fruits.images import decode_image

BATCH = 16
IMAGE_SIZE = 224


def predictor(model_file: str) -> Callable[[np.ndarray], np.ndarray]:
    """One 1-thread LiteRT interpreter on the flatbuffer, as each Spark task and each pool process runs it."""
    blob = Path(model_file).read_bytes()
    return build_predictor(ModelPayload("tflite", IMAGE_SIZE, blob, "bench"), threads=1, batch_size=BATCH)


def infer_files(predict: Callable[[np.ndarray], np.ndarray], paths: list[str]) -> np.ndarray:
    """Read, decode and infer a batch of files: the work every system in the benchmark does per batch."""
    return predict(np.stack([decode_image(Path(path).read_bytes(), IMAGE_SIZE) for path in paths]))


def feature_column(vectors: np.ndarray) -> pa.Array:
    """The vectors as an Arrow list<float> column, without a Python float per element."""
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    return pa.ListArray.from_arrays(pa.array(np.arange(0, len(flat) + 1, vectors.shape[1], dtype=np.int32)), flat)


def run_ray(files: list[str], model_file: str, cores: int, output: str) -> None:
    """``map_batches`` with one actor per core."""
    import ray  # noqa: PLC0415 - only in bench/.venv

    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, logging_level="ERROR")

    class Featurize:
        def __init__(self) -> None:
            self.predict = predictor(model_file)

        def __call__(self, batch: dict[str, np.ndarray]) -> pa.Table:
            paths = [str(path) for path in batch["path"]]
            return pa.table({"path": paths, "features": feature_column(infer_files(self.predict, paths))})

    try:
        images = ray.data.from_items([{"path": path} for path in files])
        images.map_batches(Featurize, batch_size=BATCH, concurrency=cores, num_cpus=1,
                           batch_format="numpy").write_parquet(output)
    finally:
        ray.shutdown()


def run_daft(files: list[str], model_file: str, cores: int, output: str) -> None:
    """A class UDF (``@daft.cls``), one process per core."""
    import daft  # noqa: PLC0415 - only in bench/.venv

    @daft.cls(max_concurrency=cores, use_process=True, cpus=1)
    class Featurize:
        def __init__(self, model: str) -> None:
            self.predict = predictor(model)

        @daft.method.batch(return_dtype=daft.DataType.list(daft.DataType.float32()), batch_size=BATCH)
        def __call__(self, paths: daft.Series) -> pa.Array:
            return feature_column(infer_files(self.predict, paths.to_pylist()))

    images = daft.from_pydict({"path": files})
    images.with_column("features", Featurize(model_file)(images["path"])).write_parquet(output)


RUNNERS = {"ray": run_ray, "daft": run_daft}


def main(framework: str, tree: str, model_file: str, cores: str) -> dict[str, float]:
    started = time.perf_counter()
    files = sorted(str(path) for path in Path(tree).rglob("*.jpg"))
    with tempfile.TemporaryDirectory() as output:
        RUNNERS[framework](files, model_file, int(cores), output)
        written = sum(pq.read_metadata(path).num_rows for path in Path(output).rglob("*.parquet"))
    seconds = time.perf_counter() - started
    if written != len(files):
        raise RuntimeError(f"{framework} wrote {written} rows for {len(files)} images.")
    return {"images": written, "seconds": round(seconds, 1), "images_per_s": round(written / seconds, 1)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
