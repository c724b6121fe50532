"""Hostile images built in memory for tests."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def decompression_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit black PNG of ``side``×``side`` pixels: tens of KB on disk, 400 million pixels (past Pillow's
    decompression-bomb limit) once opened."""
    row = bytes(1 + (side + 7) // 8)  # filter byte, then the row's bits
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit per pixel, grayscale
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")
