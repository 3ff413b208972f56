"""The timed workloads of ``make bench`` and one adapter per library that runs them idiomatically.

Every library gets the same array (shape, chunks, shards, dtype, codecs, fill value 0) and the same data,
and is driven the way its documentation shows:

- zarrlayered and zarr-python 3: ``create_array(store, shape=, chunks=, shards=, dtype=, compressors=)``
  on their own ``MemoryStore`` or ``LocalStore``; ``a[...] = data``, ``a[...]``, ``a.vindex[i, j]``;
- tensorstore: ``ts.open`` of a ``zarr3`` spec on a ``memory`` or ``file`` kvstore, then
  ``.write(data).result()`` and ``[...].read().result()``, ``.vindex[i, j].read().result()``. Its
  default ``file_io_sync`` (an ``fsync`` after every file written) is turned off: no other library
  syncs, and a benchmark of the page cache should not time the disk;
- h5py, where the workload fits (no zstd filter without hdf5plugin, no sharding, no point lists that
  are not sorted): a chunked dataset in an HDF5 file on disk, or in memory with the ``core`` driver
  (``backing_store=False``); a write ends with ``File.flush()``. Its chunk cache keeps its default
  size (1 MiB): turned off, h5py reads 1 MiB chunks seven times slower. h5py is then the only library
  here that keeps decoded chunks between reads: a full read sweeps more chunks than the cache holds and
  gains nothing from it, but the latency row reads the same chunk over and over, which h5py answers
  from its cache;
- a plain Python loop over the chunk files with a pool of 2 threads (the machine's cores), for the
  workloads of 1 MiB chunks: the floor of what Python code can do on this machine. A read opens each
  file, reads it into a per-thread buffer (``readinto``; or ``read`` and numcodecs' ``decode(..., out=)``)
  and copies that into its place in the output; a write makes each chunk contiguous
  (``np.ascontiguousarray``), encodes it with numcodecs and writes it to its file. No metadata, no
  checks, no missing chunks: what is left is the system calls, the decoding and the memory traffic
  that every library pays.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

__all__ = [
    "LIBRARIES",
    "WORKLOADS",
    "ArraySpec",
    "Library",
    "NoFiles",
    "PlainLoop",
    "Read",
    "Selection",
    "Target",
    "Workload",
    "chunk_places",
    "on_two_threads",
]


@dataclass(frozen=True)
class ArraySpec:
    """The array every library creates for a workload."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: str
    shards: tuple[int, ...] | None = None
    zstd_level: int | None = None  # None: no compression
    on_disk: bool = True

    @property
    def stored_objects(self) -> int:
        """How many objects (chunks, or shards) the array stores."""
        grid = self.shards or self.chunks
        return math.prod(-(-n // c) for n, c in zip(self.shape, grid, strict=True))


@dataclass(frozen=True)
class Selection:
    """What a read asks for: a basic selection (``a[key]``) or points (``a.vindex[key]``)."""

    kind: Literal["basic", "vindex"]
    key: Any

    def expected(self, data: np.ndarray) -> np.ndarray:
        """What the read must return (numpy's answer)."""
        return np.asarray(data[self.key])


FULL = Selection("basic", Ellipsis)


@dataclass(frozen=True)
class Target:
    """A goal of issue 8 for one row: minimum ratios of another library's time to zarrlayered's."""

    zarr_python: float
    tensorstore: float | None = None  # 1.0: zarrlayered at least as fast as tensorstore

    def describe(self) -> str:
        """The goal in words, for the table."""
        text = f"zarr-python >= {self.zarr_python:g}x"
        if self.tensorstore is not None:
            text += f", tensorstore >= {self.tensorstore:g}x"
        return text

    @property
    def goals(self) -> dict[str, float]:
        """Library -> the least ratio of its time to zarrlayered's."""
        goals = {"zarr-python": self.zarr_python, "tensorstore": self.tensorstore}
        return {library: goal for library, goal in goals.items() if goal is not None}

    def unmet(self, ratios: dict[str, float]) -> list[str]:
        """The parts of the goal that the ratios (library -> its time / zarrlayered's) miss."""
        return [
            f"{library} {ratios[library]:.2f}x < {goal:g}x"
            for library, goal in self.goals.items()
            if library in ratios and ratios[library] < goal
        ]


@dataclass(frozen=True)
class Read:
    """One timed read of a workload's array: ``number`` calls per repetition, the time is per call."""

    label: str
    selection: Selection
    target: Target | None = None
    number: int = 1


@dataclass(frozen=True)
class Workload:
    """An array, its data, a timed write of all of it into a new array, then timed reads of what was written."""

    key: str
    title: str
    description: str
    spec: ArraySpec
    make_data: Callable[[], np.ndarray]
    write_target: Target | None
    reads: tuple[Read, ...] = field(default=())


# -- the libraries ------------------------------------------------------------------------------------------------


class Library(ABC):
    """One library under test: creates an array for a spec and returns the callables that are timed."""

    name: ClassVar[str]

    def supports(self, spec: ArraySpec, selection: Selection | None = None) -> bool:
        """Whether the workload (and this selection of it) fits the library."""
        return True

    @abstractmethod
    def create(self, spec: ArraySpec, path: Path | None) -> Any:
        """A new, empty array: in memory when ``path`` is None, else at ``path`` (which does not exist yet)."""

    @abstractmethod
    def writer(self, array: Any, data: np.ndarray) -> Callable[[], None]:
        """A callable that writes all of ``data`` into ``array``."""

    @abstractmethod
    def reader(self, array: Any, selection: Selection) -> Callable[[], np.ndarray]:
        """A callable that reads ``selection`` from ``array``."""

    def close(self, array: Any) -> None:  # noqa: B027 - most arrays hold nothing open
        """Release what the array holds open."""


class _ZarrAPI(Library):
    """zarrlayered and zarr-python 3 share their API: only the module differs."""

    def _modules(self) -> tuple[Any, Any, Any]:
        """The package, its stores module and its ZstdCodec."""
        raise NotImplementedError

    def create(self, spec: ArraySpec, path: Path | None) -> Any:
        package, stores, zstd = self._modules()
        store = stores.MemoryStore() if path is None else stores.LocalStore(str(path))
        return package.create_array(
            store,
            shape=spec.shape,
            chunks=spec.chunks,
            shards=spec.shards,
            dtype=spec.dtype,
            compressors=None if spec.zstd_level is None else zstd(level=spec.zstd_level),
            fill_value=0,
        )

    def writer(self, array: Any, data: np.ndarray) -> Callable[[], None]:
        def write() -> None:
            array[...] = data

        return write

    def reader(self, array: Any, selection: Selection) -> Callable[[], np.ndarray]:
        key = selection.key
        if selection.kind == "vindex":
            points = array.vindex
            return lambda: points[key]
        return lambda: array[key]


class Zarrlayered(_ZarrAPI):
    name = "zarrlayered"

    def _modules(self) -> tuple[Any, Any, Any]:
        import zarrlayered
        import zarrlayered.stores
        from zarrlayered.codecs import ZstdCodec

        return zarrlayered, zarrlayered.stores, ZstdCodec


class ZarrPython(_ZarrAPI):
    name = "zarr-python"

    def _modules(self) -> tuple[Any, Any, Any]:
        import zarr
        import zarr.storage
        from zarr.codecs import ZstdCodec

        return zarr, zarr.storage, ZstdCodec


class Tensorstore(Library):
    name = "tensorstore"

    def create(self, spec: ArraySpec, path: Path | None) -> Any:
        import tensorstore as ts

        codecs: list[dict[str, Any]] = [{"name": "bytes", "configuration": {"endian": "little"}}]
        if spec.zstd_level is not None:
            codecs.append({"name": "zstd", "configuration": {"level": spec.zstd_level, "checksum": False}})
        grid = spec.chunks
        if spec.shards is not None:
            index_codecs = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]
            sharding = {"chunk_shape": list(spec.chunks), "codecs": codecs, "index_codecs": index_codecs}
            codecs = [{"name": "sharding_indexed", "configuration": sharding}]
            grid = spec.shards
        kvstore = {"driver": "memory"} if path is None else {"driver": "file", "path": f"{path}/"}
        return ts.open(
            {
                "driver": "zarr3",
                "kvstore": kvstore,
                "context": {"file_io_sync": False},
                "metadata": {
                    "shape": list(spec.shape),
                    "data_type": spec.dtype,
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(grid)}},
                    "chunk_key_encoding": {"name": "default"},
                    "fill_value": 0,
                    "codecs": codecs,
                },
            },
            create=True,
            delete_existing=True,
        ).result()

    def writer(self, array: Any, data: np.ndarray) -> Callable[[], None]:
        def write() -> None:
            array.write(data).result()

        return write

    def reader(self, array: Any, selection: Selection) -> Callable[[], np.ndarray]:
        key = selection.key
        if selection.kind == "vindex":
            points = array.vindex
            return lambda: points[key].read().result()
        return lambda: array[key].read().result()


class H5py(Library):
    name = "h5py"
    _names = itertools.count()

    def supports(self, spec: ArraySpec, selection: Selection | None = None) -> bool:
        fits = spec.shards is None and spec.zstd_level is None
        return fits and (selection is None or selection.kind == "basic")

    def create(self, spec: ArraySpec, path: Path | None) -> Any:
        import h5py

        if path is None:
            file = h5py.File(f"bench-{next(self._names)}.h5", "w", driver="core", backing_store=False)
        else:
            file = h5py.File(path, "w")
        return file.create_dataset("data", shape=spec.shape, chunks=spec.chunks, dtype=spec.dtype, fillvalue=0)

    def writer(self, array: Any, data: np.ndarray) -> Callable[[], None]:
        file = array.file

        def write() -> None:
            array[...] = data
            file.flush()

        return write

    def reader(self, array: Any, selection: Selection) -> Callable[[], np.ndarray]:
        key = selection.key
        return lambda: array[key]

    def close(self, array: Any) -> None:
        array.file.close()


def chunk_places(spec: ArraySpec) -> list[tuple[slice, ...]]:
    """The place of every chunk of ``spec``'s array, in C order of the chunk grid."""
    grids = [range(0, n, c) for n, c in zip(spec.shape, spec.chunks, strict=True)]
    return [
        tuple(slice(s, s + c) for s, c in zip(start, spec.chunks, strict=True)) for start in itertools.product(*grids)
    ]


_pool: ThreadPoolExecutor | None = None


def on_two_threads(fn: Callable[[Any], None], items: list[Any]) -> None:
    """Call ``fn`` on every item from a pool of 2 threads (the machine's cores), shared by the references."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(2, thread_name_prefix="reference")
    for _ in _pool.map(fn, items):
        pass


@dataclass(frozen=True)
class _ChunkFiles:
    """The plain loop's "array": one file per chunk under ``path``, named like Zarr V3's default keys.

    With ``path`` None (the no-files reference), the encoded chunks are kept in ``held`` instead.
    """

    path: Path | None
    spec: ArraySpec
    held: dict[str, Any] = field(default_factory=dict)

    def chunks(self) -> list[tuple[str, tuple[slice, ...]]]:
        """Every chunk: its name (its file) and its place in the array."""
        return [
            (
                os.path.join(
                    self.path or "", "c", *(str(s.start // c) for s, c in zip(place, self.spec.chunks, strict=True))
                ),
                place,
            )
            for place in chunk_places(self.spec)
        ]


class PlainLoop(Library):
    """A reference: a plain Python loop over the chunk files on a pool of 2 threads (1 MiB chunks only)."""

    name = "plain-loop"

    def supports(self, spec: ArraySpec, selection: Selection | None = None) -> bool:
        chunk_nbytes = math.prod(spec.chunks) * np.dtype(spec.dtype).itemsize
        whole = all(n % c == 0 for n, c in zip(spec.shape, spec.chunks, strict=True))
        return spec.on_disk and spec.shards is None and whole and chunk_nbytes >= 1 << 20

    def create(self, spec: ArraySpec, path: Path | None) -> Any:
        assert path is not None
        path.mkdir()
        return _ChunkFiles(path, spec)

    @staticmethod
    def _codec(spec: ArraySpec) -> Any:
        import numcodecs

        return None if spec.zstd_level is None else numcodecs.Zstd(level=spec.zstd_level)

    def _put(self, array: _ChunkFiles, name: str, value: Any) -> None:
        """Store one encoded chunk."""
        os.makedirs(os.path.dirname(name), exist_ok=True)
        with open(name, "wb") as f:
            f.write(value)

    def _decoded(self, array: _ChunkFiles, name: str, buffer: np.ndarray, codec: Any) -> np.ndarray:
        """One decoded chunk, in ``buffer`` (or in memory already held)."""
        with open(name, "rb", buffering=0) as f:
            if codec is None:
                f.readinto(buffer.data)
            else:
                codec.decode(f.read(), out=buffer)
        return buffer

    def writer(self, array: Any, data: np.ndarray) -> Callable[[], None]:
        codec = self._codec(array.spec)
        chunks = array.chunks()

        def one(item: tuple[str, tuple[slice, ...]]) -> None:
            name, place = item
            chunk = np.ascontiguousarray(data[place])
            self._put(array, name, chunk if codec is None else codec.encode(chunk))

        return lambda: on_two_threads(one, chunks)

    def reader(self, array: Any, selection: Selection) -> Callable[[], np.ndarray]:
        spec: ArraySpec = array.spec
        codec = self._codec(spec)
        chunks = array.chunks()
        scratch = threading.local()  # one chunk buffer per thread

        def read_all() -> np.ndarray:
            out = np.empty(spec.shape, dtype=spec.dtype)

            def one(item: tuple[str, tuple[slice, ...]]) -> None:
                name, place = item
                buffer = getattr(scratch, "buffer", None)
                if buffer is None:
                    buffer = scratch.buffer = np.empty(spec.chunks, dtype=spec.dtype)
                out[place] = self._decoded(array, name, buffer, codec)

            on_two_threads(one, chunks)
            return out

        key = selection.key
        return read_all if key is Ellipsis else lambda: read_all()[key]


class NoFiles(PlainLoop):
    """A reference: the plain loop with the encoded chunks held in memory, so no file is touched.

    What is left of a read is the decoding and the copy of every chunk into its place in a fresh output;
    of a write, making each chunk contiguous and encoding it (the encoded chunk is kept, as a store would
    keep it). Not a bound: copying a chunk into its non-contiguous place straight from memory can be slower
    than through a buffer that stays in the CPU's cache (see :mod:`bounds` for the bounds).
    """

    name = "no-files"

    def create(self, spec: ArraySpec, path: Path | None) -> Any:
        return _ChunkFiles(None, spec)

    def _put(self, array: _ChunkFiles, name: str, value: Any) -> None:
        array.held[name] = value  # the encoded bytes, or the contiguous chunk itself when uncompressed

    def _decoded(self, array: _ChunkFiles, name: str, buffer: np.ndarray, codec: Any) -> np.ndarray:
        value = array.held[name]
        if codec is None:
            return value  # type: ignore[no-any-return]  # copied once, straight into the output
        codec.decode(value, out=buffer)
        return buffer


#: The libraries, in the order of the table's columns; zarrlayered first (the ratios are to it).
LIBRARIES: tuple[Library, ...] = (Zarrlayered(), ZarrPython(), Tensorstore(), H5py(), PlainLoop(), NoFiles())


# -- the workloads (sizes and targets from issue 8) ------------------------------------------------------------------


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _points(shape: tuple[int, ...], count: int, seed: int) -> Selection:
    rng = _rng(seed)
    return Selection("vindex", tuple(rng.integers(0, n, count) for n in shape))


TINY = ArraySpec((1000, 1000), (10, 10), "float64", on_disk=False)
MIB_CHUNKS = ArraySpec((256, 256, 256), (64, 64, 64), "float32")
SHARDED = ArraySpec((1024, 1024), (32, 32), "uint16", shards=(256, 256), zstd_level=1)

WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "tiny-memory",
        "10,000 tiny chunks in memory",
        "(1000, 1000) float64 in (10, 10) chunks of 800 bytes, uncompressed, in a memory store; random normal data. "
        "The latency row reads one whole chunk, `a[10:20, 10:20]`, 200 times per repetition "
        "(h5py answers from its chunk cache).",
        TINY,
        lambda: _rng(1).standard_normal(TINY.shape),
        Target(8),
        (
            Read("read", FULL, Target(8)),
            Read("one chunk (latency)", Selection("basic", np.s_[10:20, 10:20]), Target(5), number=200),
        ),
    ),
    Workload(
        "mib-raw",
        "1 MiB chunks on disk, uncompressed",
        "(256, 256, 256) float32 (64 MiB) in (64, 64, 64) chunks of 1 MiB, uncompressed, in a local directory "
        "(reads come from the page cache); random normal data.",
        MIB_CHUNKS,
        lambda: _rng(2).standard_normal(MIB_CHUNKS.shape, dtype=np.float32),
        Target(2, 1),
        (Read("read", FULL, Target(4, 1)),),
    ),
    Workload(
        "mib-zstd",
        "1 MiB chunks on disk, zstd level 1",
        "The same array compressed with zstd level 1; integer values 0..999 stored as float32 (zstd halves them).",
        ArraySpec(MIB_CHUNKS.shape, MIB_CHUNKS.chunks, "float32", zstd_level=1),
        lambda: _rng(3).integers(0, 1000, MIB_CHUNKS.shape).astype(np.float32),
        Target(1.5, 1),
        (Read("read", FULL, Target(2, 1)),),
    ),
    Workload(
        "tiny-disk",
        "900 tiny chunks on disk",
        "(300, 300) float64 in (10, 10) chunks of 800 bytes, uncompressed, in a local directory; random normal data.",
        ArraySpec((300, 300), (10, 10), "float64"),
        lambda: _rng(4).standard_normal((300, 300)),
        Target(1.5),
        (Read("read", FULL, Target(5)),),
    ),
    Workload(
        "sharded",
        "sharded array on disk",
        "(1024, 1024) uint16 in 16 shards of (256, 256), each of 64 inner chunks of (32, 32), zstd level 1, "
        "in a local directory; random integers 0..1023. The points row reads 1000 random points with "
        "`a.vindex[i, j]`.",
        SHARDED,
        lambda: _rng(5).integers(0, 1024, SHARDED.shape).astype(np.uint16),
        Target(3),
        (Read("read", FULL, Target(5)), Read("1000 points (vindex)", _points(SHARDED.shape, 1000, 6), Target(10))),
    ),
)
