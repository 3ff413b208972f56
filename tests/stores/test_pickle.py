"""Stores and arrays pickle as where their data is, never as the data (what Dask workers and multiprocessing need).

Every path- or URL-based store is unpickled in a real second process (``spawn``) that reads and writes through
it; a MemoryStore, which cannot be shared between processes, pickles a copy of its values as zarr-python 3's
does.
"""

from __future__ import annotations

import logging
import multiprocessing
import operator
import pickle
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest

import zarrlayered
from zarrlayered.compat.synchronizers import ProcessSynchronizer
from zarrlayered.stores import FsspecStore, LocalStore, LoggingStore, LRUStoreCache, MappingStore, MemoryStore, ZipStore

#: A pickled array (metadata, codecs, store location) stays below this, whatever the data.
SMALL = 4096


@pytest.fixture(scope="module")
def other_process() -> Iterator[ProcessPoolExecutor]:
    """One worker process started with ``spawn``: nothing is inherited, everything arrives pickled."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def write_data(store: Any, chunks: int) -> zarrlayered.Array:
    """An array of ``chunks`` chunks of 1000 float64 in ``store``, filled with 0, 1, 2, ..."""
    array = zarrlayered.create_array(store, shape=(1000 * chunks,), chunks=(1000,), dtype="f8", compressors=None,
                                     overwrite=True)
    array[:] = np.arange(1000 * chunks, dtype="f8")
    return array


STORES: dict[str, Callable[[Path], Any]] = {
    "local": lambda root: LocalStore(root / "data.zarr"),
    "fsspec-file": lambda root: FsspecStore.from_url(f"file://{root}/data.zarr"),
    "mapping-fsmap": lambda root: MappingStore(fsspec.get_mapper(str(root / "data.zarr"))),
    "lru-cache": lambda root: LRUStoreCache(LocalStore(root / "data.zarr"), max_size=2**26),
    "logging": lambda root: LoggingStore(LocalStore(root / "data.zarr"), log_level=logging.INFO),
}


@pytest.mark.parametrize("kind", list(STORES))
def test_path_based_stores_pickle_small_and_without_data(
    kind: str, tmp_path: Path, other_process: ProcessPoolExecutor
) -> None:
    store = STORES[kind](tmp_path)
    small = write_data(store, chunks=1)
    pickled_store = pickle.dumps(store)
    pickled_array = pickle.dumps(small)
    big = write_data(store, chunks=200)  # 1.6 MB of data, read once so a cache would hold it
    assert big[:].sum() == 1000 * 200 * (1000 * 200 - 1) / 2
    assert pickle.dumps(store) == pickled_store  # the data written does not change what is pickled
    assert len(pickled_store) < 1024
    assert len(pickled_array) < SMALL and len(pickle.dumps(big)) < SMALL
    assert pickle.loads(pickled_store) == store or kind in ("lru-cache", "mapping-fsmap")  # same place
    # In another process: read everything and write a slice; the write is seen here.
    np.testing.assert_array_equal(other_process.submit(operator.getitem, big, slice(None)).result(), big[:])
    other_process.submit(operator.setitem, big, slice(0, 1000), np.full(1000, -1.0)).result()
    reopened = zarrlayered.open_array(STORES[kind](tmp_path), mode="r")
    assert reopened[0] == -1 and reopened[999] == -1 and reopened[1000] == 1000


def test_s3_store_pickles_as_its_url(s3_bucket: tuple[str, dict[str, Any]], other_process: ProcessPoolExecutor) -> None:
    """A real S3-compatible server on loopback: the worker reconnects with the same storage options."""
    url, options = s3_bucket
    store = FsspecStore.from_url(f"{url}/data.zarr", storage_options=options)
    array = write_data(store, chunks=3)
    assert len(pickle.dumps(store)) < 1024 and len(pickle.dumps(array)) < SMALL
    np.testing.assert_array_equal(other_process.submit(operator.getitem, array, slice(None)).result(), array[:])


def test_read_only_zip_pickles_and_a_writable_one_refuses(tmp_path: Path, other_process: ProcessPoolExecutor) -> None:
    path = tmp_path / "data.zip"
    with ZipStore(path, mode="w") as writable:
        write_data(writable, chunks=2)
        with pytest.raises(TypeError, match=r"cannot pickle .*writable ZipStore.*mode='r'"):
            pickle.dumps(writable)
    array = zarrlayered.open_array(ZipStore(path, mode="r"), mode="r")
    assert len(pickle.dumps(array)) < SMALL
    np.testing.assert_array_equal(other_process.submit(operator.getitem, array, slice(None)).result(), array[:])
    assert zipfile.ZipFile(path).testzip() is None


def test_memory_store_pickles_a_copy_of_its_values(other_process: ProcessPoolExecutor) -> None:
    """As zarr-python 3's MemoryStore: the copy reads the values; its writes stay in the copy."""
    store = MemoryStore()
    array = write_data(store, chunks=2)
    assert len(pickle.dumps(store)) > array.nbytes  # the values travel
    copy = pickle.loads(pickle.dumps(array))
    np.testing.assert_array_equal(copy[:], array[:])
    copy[:10] = -1
    assert array[0] == 0  # not shared
    np.testing.assert_array_equal(other_process.submit(operator.getitem, array, slice(0, 5)).result(), np.arange(5))
    read_only = pickle.loads(pickle.dumps(store.with_read_only()))
    assert read_only.read_only and sorted(read_only.list_prefix_sync("")) == sorted(store.store_dict)


def test_mapping_store_over_a_dict_pickles_its_values() -> None:
    mapping: dict[str, bytes] = {}
    array = write_data(MappingStore(mapping), chunks=1)
    copy = pickle.loads(pickle.dumps(array))
    np.testing.assert_array_equal(copy[:], array[:])
    store = pickle.loads(pickle.dumps(MappingStore(mapping, read_only=True, thread_safe=False)))
    assert isinstance(store, MappingStore) and store.read_only and not store.thread_safe


def test_wrappers_carry_settings_not_state(tmp_path: Path) -> None:
    cache = LRUStoreCache(LocalStore(tmp_path / "c.zarr"), max_size=2**20)
    write_data(cache, chunks=3)[:]
    assert cache.hits > 0 and cache.current_size > 0
    cache_copy = pickle.loads(pickle.dumps(cache))
    assert (cache_copy.max_size, cache_copy.hits, cache_copy.misses, cache_copy.current_size) == (2**20, 0, 0, 0)
    assert cache_copy.store == cache.store
    assert pickle.loads(pickle.dumps(cache.with_read_only())).read_only
    logged = LoggingStore(LocalStore(tmp_path / "c.zarr"), log_level=logging.WARNING)
    zarrlayered.open_array(logged)[:]
    assert logged.bytes_read > 0
    logged_copy = pickle.loads(pickle.dumps(logged))
    assert (logged_copy.log_level, logged_copy.bytes_read, sum(logged_copy.counter.values())) == (logging.WARNING, 0, 0)


def test_synchronized_arrays_and_groups_pickle(tmp_path: Path, other_process: ProcessPoolExecutor) -> None:
    synchronizer = ProcessSynchronizer(tmp_path / "locks")
    array = zarrlayered.create_array(str(tmp_path / "s.zarr"), shape=(10,), chunks=(4,), dtype="i4",
                                     synchronizer=synchronizer)
    other_process.submit(operator.setitem, array, slice(2, 7), 5).result()  # partial chunks, under the locks
    np.testing.assert_array_equal(array[:], [0, 0, 5, 5, 5, 5, 5, 0, 0, 0])
    copy = pickle.loads(pickle.dumps(array))
    assert copy.async_array.synchronizer.path == synchronizer.path
    group = zarrlayered.open_group(str(tmp_path / "g.zarr"), mode="w")
    group.create_array("x", shape=(3,), dtype="i1")[:] = 1
    assert list(pickle.loads(pickle.dumps(group))["x"][:]) == [1, 1, 1]
