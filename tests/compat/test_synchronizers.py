"""Synchronizers (per-chunk locks shared by threads or processes) and chunk_store (chunks kept apart)."""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sync_workers import ROUNDS, STRIDE, WRITERS, write_my_elements

import zarrlayered
from zarrlayered.compat.synchronizers import ProcessLock, ProcessSynchronizer, ThreadSynchronizer
from zarrlayered.core.sync import sync
from zarrlayered.stores import LocalStore, MemoryStore


def expected_values(n: int) -> np.ndarray[Any, Any]:
    return (np.arange(n) % STRIDE + 1).astype("<i4")


class Recording:
    """A synchronizer that records which keys were locked."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __getitem__(self, key: str) -> threading.Lock:
        with self._guard:
            self.keys.append(key)
            return self._locks.setdefault(key, threading.Lock())


# -- processes ----------------------------------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_processes_writing_the_same_chunks_lose_nothing(tmp_path: Path) -> None:
    path, locks = str(tmp_path / "data.zarr"), tmp_path / "locks"
    n = STRIDE * 50
    zarrlayered.create_array(path, shape=(n,), chunks=(100,), dtype="<i4", fill_value=0, zarr_format=2)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WRITERS) as pool:
        done = pool.starmap(write_my_elements, [(path, str(locks), w) for w in range(WRITERS)])
    assert sorted(done) == list(range(WRITERS))
    np.testing.assert_array_equal(zarrlayered.open_array(path, mode="r")[:], expected_values(n))
    # every chunk was locked through its own lock file
    assert sorted(p.name for p in locks.iterdir()) == sorted(str(i) for i in range(n // 100))


def test_process_locks_exclude_each_other_and_threads(tmp_path: Path) -> None:
    first, second = ProcessLock(tmp_path / "k"), ProcessLock(tmp_path / "k")
    assert first.acquire(blocking=False)
    assert not second.acquire(blocking=False)  # a different open file: excluded, as another process is
    assert not first.acquire(blocking=False)  # the same lock from another call (or thread) waits too
    first.release()
    assert second.acquire(blocking=False) and second.locked()
    second.release()
    with pytest.raises(RuntimeError, match="unlocked"):
        second.release()
    sync_ = ProcessSynchronizer(tmp_path / "locks")
    assert sync_["a/0.0"] is sync_["a/0.0"]
    with sync_["a/0.0"]:
        assert (tmp_path / "locks" / "a" / "0.0").exists()
    clone = pickle.loads(pickle.dumps(sync_))
    assert isinstance(clone, ProcessSynchronizer) and clone.path == sync_.path
    with pytest.raises(TypeError, match="path"):
        ProcessSynchronizer(42)  # type: ignore[arg-type]


# -- threads and tasks ---------------------------------------------------------------------------------------
def test_threads_through_a_thread_synchronizer_lose_nothing(tmp_path: Path) -> None:
    synchronizer = ThreadSynchronizer()
    n = STRIDE * 20
    arr = zarrlayered.create_array(
        LocalStore(tmp_path / "t.zarr"), shape=(n,), chunks=(40,), dtype="<i4", fill_value=0,
        synchronizer=synchronizer,
    )

    def writer(w: int) -> None:
        for r in range(ROUNDS):
            first = w * ROUNDS + r
            arr[first::STRIDE] = first + 1

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    np.testing.assert_array_equal(arr[:], expected_values(n))
    assert len(synchronizer) == n // 40 and "c/0" in synchronizer
    assert pickle.loads(pickle.dumps(synchronizer)) is not synchronizer


def test_async_tasks_through_a_synchronizer_lose_nothing() -> None:
    synchronizer = Recording()
    n = STRIDE * 10
    arr = zarrlayered.create_array(MemoryStore(), shape=(n,), chunks=(40,), dtype="<i4", fill_value=0,
                                   synchronizer=synchronizer)

    async def write_all() -> None:
        await asyncio.gather(*(arr.async_array.setitem(slice(i, n, STRIDE), i + 1) for i in range(STRIDE)))

    sync(write_all())
    np.testing.assert_array_equal(arr[:], expected_values(n))
    assert set(synchronizer.keys) == {f"c/{i}" for i in range(n // 40)}


@pytest.mark.parametrize("path", ["sync", "async"])
@pytest.mark.parametrize("shards", [None, (4,)], ids=["chunked", "sharded"])
def test_whole_chunk_writes_hold_the_lock_too(path: str, shards: tuple[int] | None) -> None:
    synchronizer = Recording()
    arr = zarrlayered.create_array({}, shape=(8,), chunks=(2,), shards=shards, dtype="u1",
                                   synchronizer=synchronizer)
    if path == "sync":
        arr[:] = 3
    else:
        sync(arr.async_array.setitem(slice(None), 3))
    expected = {"c/0", "c/1"} if shards else {f"c/{i}" for i in range(4)}
    assert set(synchronizer.keys) == expected
    np.testing.assert_array_equal(arr[:], np.full(8, 3, dtype="u1"))


def test_open_array_and_open_take_a_synchronizer(tmp_path: Path) -> None:
    zarrlayered.create_array(tmp_path / "a.zarr", shape=(4,), chunks=(2,), dtype="i2", zarr_format=2)
    synchronizer = Recording()
    arr = zarrlayered.open_array(tmp_path / "a.zarr", mode="r+", synchronizer=synchronizer)
    arr[1] = 5
    node = zarrlayered.open(tmp_path / "a.zarr", mode="r+", synchronizer=synchronizer)
    node[2] = 6  # type: ignore[index]
    assert synchronizer.keys == ["0", "1"]
    assert arr.async_array.synchronizer is synchronizer
    resized = zarrlayered.open_array(tmp_path / "a.zarr", mode="r+", synchronizer=synchronizer)
    resized.resize((6,))
    assert resized.async_array.synchronizer is synchronizer
    with pytest.raises(TypeError, match="synchronizer"):
        zarrlayered.open_array(tmp_path / "a.zarr", mode="r+", synchronizer=42)
    group_sync = ThreadSynchronizer()
    assert zarrlayered.open_group({}, synchronizer=group_sync).async_group.array_options["synchronizer"] is group_sync


# -- chunk_store -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_chunk_store_keeps_chunks_apart_from_metadata(zarr_format: int) -> None:
    meta: dict[str, bytes] = {}
    chunks: dict[str, bytes] = {}
    data = np.arange(30, dtype="<f8").reshape(5, 6)
    arr = zarrlayered.create_array(meta, name="x", data=data, chunks=(2, 3), chunk_store=chunks,
                                   zarr_format=zarr_format, attributes={"unit": "K"})
    names = {".zarray", ".zattrs", ".zgroup"} if zarr_format == 2 else {"zarr.json"}
    assert {k.rsplit("/", 1)[-1] for k in meta} <= names
    assert len(chunks) == 6 and all(k.startswith("x/") for k in chunks)
    assert arr.nchunks_initialized == 6
    own_metadata = sum(len(v) for k, v in meta.items() if k.startswith("x/"))
    assert arr.nbytes_stored() == own_metadata + sum(map(len, chunks.values()))

    again = zarrlayered.open_array(meta, path="x", mode="r", chunk_store=chunks)
    np.testing.assert_array_equal(again[:], data)
    assert again.attrs["unit"] == "K"
    without = zarrlayered.open_array(meta, path="x", mode="r")  # the chunks are not in the metadata store
    assert np.all(without[:] == 0)

    writer = zarrlayered.open_array(meta, path="x", mode="r+", chunk_store=chunks)
    writer[4, :] = -1
    writer.resize((2, 6))  # chunks outside the new shape leave the chunk store
    assert len(chunks) == 2 and np.all(writer[:] == data[:2])
    node = zarrlayered.open(meta, path="x", mode="r", chunk_store=chunks)
    np.testing.assert_array_equal(node[:], data[:2])  # type: ignore[index]


def test_overwriting_an_array_clears_its_old_chunks_in_the_chunk_store() -> None:
    meta: dict[str, bytes] = {}
    chunks: dict[str, bytes] = {}
    zarrlayered.create_array(meta, shape=(4,), chunks=(2,), dtype="i1", data=np.ones(4, "i1"), chunk_store=chunks)
    assert len(chunks) == 2
    new = zarrlayered.create_array(meta, shape=(4,), chunks=(2,), dtype="i1", chunk_store=chunks, overwrite=True)
    assert chunks == {} and np.all(new[:] == 0)
    zarrlayered.create_array(meta, shape=(4,), chunks=(2,), dtype="i1", data=np.ones(4, "i1"), chunk_store=chunks,
                             overwrite=True)
    reopened = zarrlayered.open_array(meta, mode="w", shape=(4,), chunks=(2,), dtype="i1", chunk_store=chunks)
    assert chunks == {} and np.all(reopened[:] == 0)


def test_group_hands_its_synchronizer_and_chunk_store_to_its_arrays(tmp_path: Path) -> None:
    import threading

    import numpy as np

    from zarrlayered.compat.synchronizers import ThreadSynchronizer

    meta: dict[str, bytes] = {}
    chunks: dict[str, bytes] = {}
    sync_ = ThreadSynchronizer()
    root = zarrlayered.open_group(meta, mode="w", zarr_format=2, synchronizer=sync_, chunk_store=chunks)
    arr = root.create_array("a/x", shape=(40,), chunks=(10,), dtype="i8", fill_value=0, data=np.arange(40))
    assert arr.async_array.chunk_store is not None
    assert sorted(chunks) == ["a/x/0", "a/x/1", "a/x/2", "a/x/3"]
    assert not any(k.startswith("a/x/") and k[-1].isdigit() for k in meta)
    reopened = zarrlayered.open_group(meta, mode="r+", synchronizer=sync_, chunk_store=chunks)
    member = reopened["a/x"]
    np.testing.assert_array_equal(member[:], np.arange(40))

    def add_one(start: int) -> None:
        for i in range(start, 40, 4):
            member[i : i + 1] = member[i : i + 1] + 1

    threads = [threading.Thread(target=add_one, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(zarrlayered.open_group(meta, chunk_store=chunks)["a/x"][:], np.arange(40) + 1)
    assert [name for name, _ in reopened.members(max_depth=None)] == ["a", "a/x"]
