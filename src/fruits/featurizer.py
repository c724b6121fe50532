"""What runs in Spark's Python workers: read a batch of images (concurrently), decode them, run the network.

Kept apart from the pipeline's nodes so that a worker imports only what it runs (numpy, pandas, fsspec, Pillow, the
engine), not Kedro.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import fsspec
import numpy as np
import pandas as pd
from fsspec import AbstractFileSystem
from pyspark import Accumulator
from pyspark.sql import Column
from pyspark.sql.functions import pandas_udf

from fruits.engines import ModelPayload, Predictor, cached_predictor
from fruits.images import decode_image
from fruits.rejects import ImageRejected, RejectKind
from fruits.uris import protocol

# What the featurization of one image gives: features, or the kind of reject and its detail.
FEATURE_RESULT_SCHEMA = "features array<float>, reject_kind string, reject_detail string"
Reader = Callable[[list[str]], list["bytes | Exception"]]


def read_files(fs: AbstractFileSystem, uris: list[str]) -> list[bytes | Exception]:
    """The bytes of each file, or the error reading it, in order; fetched concurrently on object stores.

    Whole-file ranges, not ``cat``: ``cat`` expands glob characters, and ``[``, ``*`` or ``?`` are legal in names.
    """
    paths = [fs._strip_protocol(uri) for uri in uris]
    return fs.cat_ranges(paths, [None] * len(paths), [None] * len(paths), on_error="return")


def file_reader(uri: str) -> Reader:
    """A reader for URIs of one filesystem, chosen by the protocol alone (a name is never parsed as a URL)."""
    fs = fsspec.filesystem(protocol(uri))
    return lambda uris: read_files(fs, uris)


def read_failure(error: Exception) -> ImageRejected:
    """The reject of a file that could not be read (e.g. deleted between the listing and now); the next run tries
    it again."""
    if isinstance(error, FileNotFoundError):
        return ImageRejected(RejectKind.UNREADABLE, "gone since the listing")
    return ImageRejected(RejectKind.UNREADABLE, f"{type(error).__name__}: {error}")


def featurize_batch(uris: pd.Series, read: Reader, predict: Predictor, image_size: int, batch_size: int,
                    prefetch: ThreadPoolExecutor) -> pd.DataFrame:
    """Features of one Arrow batch of URIs (row order kept), or the kind and detail of why an image has none.

    Images are read ``batch_size`` at a time, the next chunk while this one is decoded and inferred, and decoded
    into one reused uint8 buffer: a worker holds two chunks of bytes and one of pixels, whatever the batch size.

    Vectors are lists of floats: PySpark converts each returned array into a list, element by element, before
    handing it to Arrow; NumPy's ``tolist`` makes that list in C, at a fraction of that cost.
    """
    features: list[list[float] | None] = [None] * len(uris)
    kinds: list[str | None] = [None] * len(uris)
    details: list[str | None] = [None] * len(uris)
    pixels = np.empty((batch_size, image_size, image_size, 3), dtype=np.uint8)
    starts = range(0, len(uris), batch_size)
    pending = prefetch.submit(read, list(uris.iloc[0:batch_size]))
    for start in starts:
        contents = pending.result()
        if start + batch_size < len(uris):
            pending = prefetch.submit(read, list(uris.iloc[start + batch_size:start + 2 * batch_size]))
        rows: list[int] = []
        for row, content in enumerate(contents, start=start):
            try:
                if isinstance(content, Exception):
                    raise read_failure(content)
                pixels[len(rows)] = decode_image(content, image_size)
                rows.append(row)
            except ImageRejected as rejected:
                kinds[row], details[row] = rejected.kind.value, rejected.detail
        if rows:
            for row, vector in zip(rows, predict(pixels[: len(rows)]).tolist(), strict=True):
                features[row] = vector
    return pd.DataFrame({"features": features, "reject_kind": kinds, "reject_detail": details})


def featurizer(payload_broadcast: Any, payload: ModelPayload, threads: int, batch_size: int,
               done: Accumulator) -> Callable[[Column], Column]:
    """The iterator pandas UDF, built at run time (declared with a schema string once a session exists).

    The UDF's closure is shipped with every task: it holds plain values only, the model itself travels once per
    executor as the broadcast.
    """
    image_size, fingerprint = payload.image_size, payload.fingerprint

    @pandas_udf(FEATURE_RESULT_SCHEMA)
    def featurize(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        predict = cached_predictor(lambda: payload_broadcast.value, fingerprint, threads, batch_size)
        read: Reader | None = None
        with ThreadPoolExecutor(1) as prefetch:
            for uris in batches:
                read = read or file_reader(uris.iloc[0])
                result = featurize_batch(uris, read, predict, image_size, batch_size, prefetch)
                done.add(len(result))
                yield result

    return featurize
