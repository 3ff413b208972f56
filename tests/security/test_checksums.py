"""A flipped bit in a crc32c-protected chunk, shard index or inner chunk raises ChecksumError naming the
chunk (or shard) through every read path, sync and async, on real files and in memory: full reads,
partial reads of a sharded array (the index fetched as a byte range), vindex, oindex, block reads and
the read-merge-write of a partial write. Reads that do not touch the damaged chunk return the right
numbers; none returns wrong ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import pytest

import zarrlayered
from zarrlayered.errors import ChecksumError, CorruptChunkError
from zarrlayered.stores.abc import Store
from zarrlayered.stores.local import LocalStore
from zarrlayered.stores.memory import MemoryStore

DATA = np.arange(64, dtype="<i4").reshape(8, 8)
CRC = {"name": "crc32c"}

#: layout -> (create_array keywords, the key damaged, where in it, what the error must name)
LAYOUTS: dict[str, tuple[dict[str, Any], str, Callable[[int], int], str]] = {
    "crc32c chunk": ({"chunks": (4, 4), "compressors": [CRC]}, "arr/c/0/0", lambda n: n // 2, "'arr/c/0/0'"),
    "crc32c+zstd chunk": (
        {"chunks": (4, 4), "compressors": [{"name": "zstd", "configuration": {"level": 1}}, CRC]},
        "arr/c/0/0",
        lambda n: 3,
        "'arr/c/0/0'",
    ),
    "shard index": (
        {"chunks": (2, 2), "shards": (4, 4), "compressors": None},
        "arr/c/0/0",
        lambda n: n - 9,
        "'arr/c/0/0'",
    ),
    "shard inner chunk": (
        {"chunks": (2, 2), "shards": (4, 4), "compressors": [CRC]},
        "arr/c/0/0",
        lambda n: 5,
        "'arr/c/0/0 inner chunk (0, 0)'",
    ),
    "v2 crc32c": (
        {"chunks": (4, 4), "compressors": numcodecs.CRC32C(), "zarr_format": 2},
        "arr/0.0",
        lambda n: 7,
        "'arr/0.0'",
    ),
}

#: read path -> (selection reader, whether it touches chunk/shard (0, 0))
READS: dict[str, tuple[Callable[[Any], Any], bool]] = {
    "full": (lambda a: a[...], True),
    "partial touching": (lambda a: a[1:3, 1:3], True),
    "point touching": (lambda a: a[0, 0], True),
    "partial elsewhere": (lambda a: a[5:8, 4:8], False),
    "vindex touching": (lambda a: a.vindex[[0, 7], [0, 7]], True),
    "vindex elsewhere": (lambda a: a.vindex[[4, 7], [4, 6]], False),
    "oindex touching": (lambda a: a.oindex[[0, 6], [1, 5]], True),
    "block touching": (lambda a: a.blocks[0, 0], True),
    "async touching": (lambda a: asyncio.run(a.async_array.getitem((slice(0, 2), slice(0, 2)))), True),
}

STORES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp: MemoryStore(),
    "local": lambda tmp: LocalStore(tmp / "data.zarr"),
}


def _damaged(tmp_path: Path, store_kind: str, layout: str) -> tuple[Store, str]:
    kwargs, key, where, names = LAYOUTS[layout]
    store = STORES[store_kind](tmp_path)
    zarrlayered.create_array(store, name="arr", shape=(8, 8), dtype="<i4", **kwargs)[...] = DATA
    original = bytearray(store.get_sync(key) or b"")
    assert original, key
    original[where(len(original))] ^= 0x04
    store.set_sync(key, bytes(original))
    return store, names


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("store_kind", sorted(STORES))
def test_a_flipped_bit_is_a_checksum_error_never_wrong_numbers(
    tmp_path: Path, store_kind: str, layout: str, read: str
) -> None:
    store, names = _damaged(tmp_path, store_kind, layout)
    array = zarrlayered.open_array(store, path="arr", mode="r")
    reader, touches = READS[read]
    if touches:
        with pytest.raises(ChecksumError) as info:
            reader(array)
        assert names in str(info.value), str(info.value)
        assert isinstance(info.value, CorruptChunkError) and isinstance(info.value, ValueError)
    else:
        got = np.asarray(reader(array))
        want = np.asarray(reader(zarrlayered.array(DATA, chunks=(4, 4))))
        assert np.array_equal(got, want)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_partial_write_over_a_damaged_chunk_refuses_and_keeps_it(tmp_path: Path, layout: str) -> None:
    """A read-merge-write must not silently rebuild a damaged chunk from wrong numbers."""
    store, names = _damaged(tmp_path, "local", layout)
    key = LAYOUTS[layout][1]
    before = store.get_sync(key)
    array = zarrlayered.open_array(store, path="arr", mode="r+")
    with pytest.raises(ChecksumError) as info:
        array[0, 1] = -1
    assert names.split(" inner")[0].rstrip("'") in str(info.value)
    assert store.get_sync(key) == before
