"""The Python-worker side of the featurization: concurrent reads, decoding, inference, reasons."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from devkit.paths import MINI_SET
from fruits.engines import ModelPayload, build_predictor
from fruits.featurizer import featurize_batch, file_reader, read_failure
from fruits.rejects import RejectKind
from tests.support.images import decompression_bomb


def test_a_batch_keeps_row_order_and_records_reasons(small_payload: ModelPayload, tmp_path: Path) -> None:
    good = (MINI_SET / "Orange" / "3_100.jpg").read_bytes()
    files = {"good.jpg": good, "empty.jpg": b"", "garbage.jpg": b"not an image", "12:30:00.jpg": good,
             "b*.jpg": b"", "apple[1].jpg": good}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    uris = pd.Series([f"file://{tmp_path}/{name}" for name in [*files, "gone.jpg", "good.jpg"]])  # "b*" no glob
    predict = build_predictor(small_payload, threads=1, batch_size=4)
    with ThreadPoolExecutor(1) as prefetch:
        result = featurize_batch(uris, file_reader(uris[0]), predict, 96, 4, prefetch)
    assert result["reject_kind"].tolist() == [None, "empty file", "not a decodable image", None, "empty file", None,
                                              "unreadable", None]
    assert result["reject_detail"].tolist() == [None] * 6 + ["gone since the listing", None]
    vectors = result["features"].dropna()
    assert all(len(vector) == 1280 for vector in vectors)
    assert np.allclose(vectors.iloc[0], vectors.iloc[-1], atol=1e-5)  # same image, same features


def test_a_decompression_bomb_in_a_class_folder_is_rejected_as_too_many_pixels(small_payload: ModelPayload,
                                                                                tmp_path: Path) -> None:
    (tmp_path / "Kiwi").mkdir()
    (tmp_path / "Kiwi" / "bomb.png").write_bytes(decompression_bomb())
    (tmp_path / "Kiwi" / "good.jpg").write_bytes((MINI_SET / "Kiwi" / "3_100.jpg").read_bytes())
    uris = pd.Series([f"file://{tmp_path}/Kiwi/bomb.png", f"file://{tmp_path}/Kiwi/good.jpg"])
    with ThreadPoolExecutor(1) as prefetch:
        result = featurize_batch(uris, file_reader(uris[0]), build_predictor(small_payload, 1, 2), 96, 2, prefetch)
    assert result["reject_kind"].tolist() == ["too many pixels", None]
    assert "decompression bomb" in result["reject_detail"][0] and len(result["features"][1]) == 1280


def test_read_failures_are_unreadable_rejects_with_their_error() -> None:
    gone, denied = read_failure(FileNotFoundError("x")), read_failure(PermissionError("denied"))
    assert (gone.kind, gone.detail) == (RejectKind.UNREADABLE, "gone since the listing")
    assert (denied.kind, denied.detail) == (RejectKind.UNREADABLE, "PermissionError: denied")
