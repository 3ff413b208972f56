"""Shared helpers of the codec compatibility tests: sample data and chunk comparison."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["same_chunk", "sample_data"]


def sample_data(dtype: str, shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(42)
    n = int(np.prod(shape))
    if dtype == "str":
        words = ["", "a", "bé", "日本語", "longer string " * 5, "z"]
        return np.array([words[int(i)] for i in rng.integers(0, len(words), n)], dtype=object).reshape(shape)
    if dtype == "bytes":
        items = [b"", b"\x00\x01", b"abc", bytes(range(40))]
        return np.array([items[int(i)] for i in rng.integers(0, len(items), n)], dtype=object).reshape(shape)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool).reshape(shape)
    if dt.kind == "c":
        return (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt).reshape(shape)
    if dt.kind == "f":
        return np.round(rng.standard_normal(n) * 100, 1).astype(dt).reshape(shape)
    # smooth integers so that compression has something to find
    return (np.cumsum(rng.integers(0, 5, n)) % 10_000).astype(dt).reshape(shape)


def same_chunk(ours: bytes, theirs: bytes) -> bool:
    """Equal bytes; for gzip streams the 4-byte MTIME header field (numcodecs writes the current time) is ignored."""
    if ours == theirs:
        return True
    gzip_header = b"\x1f\x8b\x08"
    if ours[:3] == theirs[:3] == gzip_header and len(ours) == len(theirs):
        return ours[:4] + ours[8:] == theirs[:4] + theirs[8:]
    return False
