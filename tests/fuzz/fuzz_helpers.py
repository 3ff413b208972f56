"""Shared pieces of the fuzz suite: the arrays fuzzed (one per codec chain), the hypothesis settings, and
the one rule every outcome must follow.

The rule: reading untrusted bytes either returns data (of the array's shape and dtype) or raises a
``zarrlayered.errors`` class deriving from ValueError, KeyError or OSError whose message names the store
key and the problem. Nothing else: no RecursionError, MemoryError, RuntimeError, zlib.error, crash or hang.
Where a chunk is checksummed (crc32c), "data" must be the very data written.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numcodecs
import numpy as np
import zstandard
from hypothesis import HealthCheck, settings

import zarrlayered
from zarrlayered.errors import ZarrlayeredError
from zarrlayered.stores.memory import MemoryStore

#: Reproducible in CI: a fixed derandomized search, no example database, no deadline on a busy machine.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

#: Cases run in this process, per kind (``conftest.py`` prints the totals at the end of the session).
CASES: Counter[str] = Counter()

#: What the documented errors derive from.
DOCUMENTED_BASES = (ValueError, KeyError, OSError)

METADATA_NAMES = ("zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata")


def is_metadata_key(key: str) -> bool:
    """True for a metadata document's key (not a chunk)."""
    return key.rsplit("/", 1)[-1] in METADATA_NAMES


@dataclass(frozen=True)
class Case:
    """One fuzzed array: its name, the documents and chunks of a store holding it, and its data.

    Parameters
    ----------
    name
        The codec chain, for test ids.
    documents
        Every key of the store (metadata and chunks) and its bytes.
    expected
        The array's content.
    checksummed
        True when every chunk (and shard index) carries a crc32c: corruption must then be detected.
    """

    name: str
    documents: dict[str, bytes]
    expected: np.ndarray[Any, Any]
    checksummed: bool

    @property
    def chunk_keys(self) -> list[str]:
        """The chunk (or shard) keys, sorted."""
        return sorted(k for k in self.documents if not is_metadata_key(k))


def _numbers() -> np.ndarray[Any, Any]:
    return (np.arange(24, dtype="<i4") * 37 % 11).reshape(4, 6)


def _strings() -> np.ndarray[Any, Any]:
    return np.array([f"s{i}" * (i % 4) for i in range(24)], dtype=object).reshape(4, 6)


def _bytes() -> np.ndarray[Any, Any]:
    return np.array([b"b" * (i % 5) for i in range(24)], dtype=object).reshape(4, 6)


_CRC = {"name": "crc32c"}
_GZIP = {"name": "gzip", "configuration": {"level": 1}}
_ZSTD = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}

#: name -> (create_array keyword arguments, data, checksummed)
CHAINS: dict[str, tuple[dict[str, Any], Callable[[], np.ndarray[Any, Any]], bool]] = {
    "bytes": ({"compressors": None}, _numbers, False),
    "gzip": ({"compressors": [{"name": "gzip", "configuration": {"level": 1}}]}, _numbers, False),
    "zstd": ({"compressors": [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}]}, _numbers, False),
    "blosc": (
        {
            "compressors": [
                {
                    "name": "blosc",
                    "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 4, "blocksize": 0},
                }
            ]
        },
        _numbers,
        False,
    ),
    "crc32c": ({"compressors": [_CRC]}, _numbers, True),
    "zstd+crc32c": ({"compressors": [_ZSTD, _CRC]}, _numbers, True),
    "transpose+gzip": (
        {"filters": [{"name": "transpose", "configuration": {"order": [1, 0]}}], "compressors": [_GZIP]},
        _numbers,
        False,
    ),
    "sharding": ({"shards": (4, 6), "compressors": None}, _numbers, False),
    "sharding+zstd": ({"shards": (4, 6), "compressors": [_ZSTD]}, _numbers, False),
    "sharding+crc32c": ({"shards": (4, 6), "compressors": [_CRC]}, _numbers, True),
    "vlen-utf8": ({"dtype": str, "compressors": None}, _strings, False),
    "vlen-utf8+zstd": ({"dtype": str, "compressors": [_ZSTD]}, _strings, False),
    "vlen-bytes+gzip": ({"dtype": bytes, "compressors": [_GZIP]}, _bytes, False),
    "v2-none": ({"zarr_format": 2, "compressors": None}, _numbers, False),
    "v2-zlib": ({"zarr_format": 2, "compressors": numcodecs.Zlib(level=1)}, _numbers, False),
    "v2-gzip": ({"zarr_format": 2, "compressors": numcodecs.GZip(level=1)}, _numbers, False),
    "v2-bz2": ({"zarr_format": 2, "compressors": numcodecs.BZ2(level=1)}, _numbers, False),
    "v2-lzma": ({"zarr_format": 2, "compressors": numcodecs.LZMA(preset=1)}, _numbers, False),
    "v2-lz4": ({"zarr_format": 2, "compressors": numcodecs.LZ4()}, _numbers, False),
    "v2-blosc": ({"zarr_format": 2, "compressors": numcodecs.Blosc(cname="zstd")}, _numbers, False),
    "v2-zstd": ({"zarr_format": 2, "compressors": numcodecs.Zstd(level=1)}, _numbers, False),
    "v2-crc32c": ({"zarr_format": 2, "compressors": numcodecs.CRC32C()}, _numbers, True),
    "v2-delta+zlib": (
        {"zarr_format": 2, "filters": [numcodecs.Delta(dtype="<i4")], "compressors": numcodecs.Zlib()},
        _numbers,
        False,
    ),
    "v2-vlen-utf8+zlib": ({"zarr_format": 2, "dtype": str, "compressors": numcodecs.Zlib()}, _strings, False),
    "v2-vlen-bytes": ({"zarr_format": 2, "dtype": bytes, "compressors": None}, _bytes, False),
    # chunks rewritten as zstd frames that do not declare their content size (see make_case)
    "zstd-unsized": ({"compressors": [_ZSTD]}, _numbers, False),
    "v2-zstd-unsized": ({"zarr_format": 2, "compressors": numcodecs.Zstd(level=1)}, _numbers, False),
    "vlen-utf8+zstd-unsized": ({"dtype": str, "compressors": [_ZSTD]}, _strings, False),
}


def _unsized(frame: bytes) -> bytes:
    """The zstd ``frame`` rewritten as one frame without a content size (with a content checksum)."""
    data = bytes(numcodecs.Zstd().decode(frame))
    return zstandard.ZstdCompressor(write_content_size=False, write_checksum=True).compress(data)


def make_case(name: str) -> Case:
    """Write the array of chain ``name`` (shape (4, 6), chunks (2, 3)) to a MemoryStore and snapshot it."""
    kwargs, data, checksummed = CHAINS[name]
    options = dict(kwargs)
    dtype = options.pop("dtype", "<i4")
    store = MemoryStore()
    array = zarrlayered.create_array(
        store, name="arr", shape=(4, 6), chunks=(2, 3), dtype=dtype, fill_value=None, **options
    )
    values = data()
    array[...] = values
    zarrlayered.consolidate_metadata(store)
    documents = dict(store.store_dict)
    if name.endswith("-unsized"):
        documents = {k: v if is_metadata_key(k) else _unsized(v) for k, v in documents.items()}
    return Case(name, documents, values, checksummed)


def check_error(exc: BaseException, keys: tuple[str, ...]) -> None:
    """Assert ``exc`` is a documented zarrlayered error whose message names one of ``keys``."""
    assert isinstance(exc, ZarrlayeredError), f"undocumented {type(exc).__name__}: {exc!r}"
    assert isinstance(exc, DOCUMENTED_BASES), f"{type(exc).__name__} derives from none of {DOCUMENTED_BASES}"
    message = str(exc)
    assert any(key in message for key in keys), f"{type(exc).__name__} does not name any of {keys}: {message}"


def read_outcome(
    documents: dict[str, bytes], read: Callable[[MemoryStore], Any], keys: tuple[str, ...]
) -> tuple[Any, BaseException | None]:
    """Run ``read`` on a store of ``documents``; return (result, None) or (None, the documented error)."""
    store = MemoryStore(dict(documents))
    try:
        return read(store), None
    except Exception as exc:
        check_error(exc, keys)
        return None, exc


def dumps(document: Any) -> bytes:
    """JSON as zarr documents hold it (NaN allowed)."""
    return json.dumps(document, allow_nan=True).encode()
