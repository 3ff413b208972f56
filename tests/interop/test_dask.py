"""Dask on more than one process: a real ``dask.distributed`` LocalCluster of two worker processes.

The workers get arrays by pickling (the store's path and the metadata, never data), read and write their
own blocks, and the test process only sees reductions and a few spot checks. The threaded scheduler is
used where the point is the chunk alignment, not the processes.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrlayered
from zarrlayered.compat.dask import DaskAlignmentWarning, storage_edges
from zarrlayered.compat.synchronizers import ProcessSynchronizer, ThreadSynchronizer
from zarrlayered.stores import LocalStore, MemoryStore

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")



def threads() -> Any:
    """Compute with the local threaded scheduler inside this context (even while the cluster is the default)."""
    return dask.config.set(scheduler="threads")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two worker processes with one thread each, on this machine; the default Dask scheduler meanwhile."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR)
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def workers_that_ran(task_stream: Any, prefix: str) -> set[str]:
    return {task["worker"] for task in task_stream.data if str(task["key"]).startswith(f"('{prefix}")}


# -- a gigabyte on worker processes --------------------------------------------------------------------
def test_one_gigabyte_written_and_read_back_exactly_by_worker_processes(client: Any, tmp_path: Path) -> None:
    rows, cols = 2**13, 2**14  # 2**27 float64 = 1 GiB, in 32 chunks of 32 MiB
    expected = da.arange(rows * cols, dtype="f8", chunks=256 * cols).reshape(rows, cols)  # made on the workers
    path = str(tmp_path / "big.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DaskAlignmentWarning)  # the blocks are the chunks: no rechunking
        with distributed.get_task_stream(client) as written:
            array = zarrlayered.from_dask(expected, path, compressors=None, progress=False)
    assert (array.nbytes, array.chunks, array.compressors) == (2**30, (256, cols), ())
    assert len(os.listdir(tmp_path / "big.zarr" / "c")) == 32
    assert os.getpid() not in set(client.run(os.getpid).values())
    assert len(workers_that_ran(written, "zarrlayered-store-")) == 2  # both processes wrote

    reopened = zarrlayered.open_array(path, mode="r")
    by_hand = da.from_array(reopened, chunks=reopened.chunks)  # the plain Dask way
    helper = zarrlayered.to_dask(reopened)
    assert helper.chunks[1] == (cols,) and all(rows_ % 256 == 0 for rows_ in helper.chunks[0][:-1])
    with distributed.get_task_stream(client) as read:
        same, total, row_means = dask.compute((by_hand == expected).all(), by_hand.sum(), helper.mean(axis=1))
    assert bool(same)  # every element compared, on the workers
    n = rows * cols
    assert total == n * (n - 1) / 2  # exact: every partial sum is an integer below 2**53
    np.testing.assert_array_equal(row_means, np.arange(rows) * cols + (cols - 1) / 2)
    assert len(workers_that_ran(read, "")) == 2  # (the read tasks are fused with the comparisons)
    # spot checks in this process
    assert reopened[0, 0] == 0 and reopened[-1, -1] == n - 1
    np.testing.assert_array_equal(reopened[4097, 100:104], 4097 * cols + np.arange(100, 104))


def test_dask_store_and_from_array_with_lock_false(client: Any, tmp_path: Path) -> None:
    """What zarr-python users write: ``da.store(x, arr, lock=False)`` and ``da.from_array(arr, chunks=arr.chunks)``."""
    data = np.arange(600 * 400, dtype="i4").reshape(600, 400) % 1013
    array = zarrlayered.create_array(str(tmp_path / "a.zarr"), shape=data.shape, chunks=(100, 200), dtype="i4",
                                     zarr_format=2)
    x = da.from_array(data, chunks=(200, 200))  # whole chunks per block
    da.store(x, array, lock=False)
    np.testing.assert_array_equal(array[:], data)
    back = da.from_array(array, chunks=array.chunks)
    assert back.sum().compute() == data.sum()
    np.testing.assert_array_equal(back[::7, 3].compute(), data[::7, 3])


def test_straddling_blocks_with_a_process_synchronizer(client: Any, tmp_path: Path) -> None:
    """Blocks sharing chunks, written as they are by two processes, under file locks: nothing lost."""
    x = da.arange(10_000, dtype="i8", chunks=333) * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", DaskAlignmentWarning)
        array = zarrlayered.from_dask(x, str(tmp_path / "s.zarr"), chunks=(500,),
                                      synchronizer=ProcessSynchronizer(tmp_path / "locks"))
    np.testing.assert_array_equal(array[:], np.arange(10_000) * 3)


def test_progress_bar_on_the_cluster(client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = da.ones((64, 64), dtype="f8", chunks=(16, 64))
    zarrlayered.from_dask(x, str(tmp_path / "p.zarr"), progress=True)
    err = capsys.readouterr().err
    assert "write: 100%" in err and "32.8k/32.8k" in err  # 32768 bytes, counted block by block
    zarrlayered.from_dask(x, str(tmp_path / "q.zarr"))  # None: pytest's stderr is no terminal
    assert capsys.readouterr().err == ""
    assert zarrlayered.open_array(str(tmp_path / "q.zarr"))[:].sum() == 64 * 64


def test_an_in_memory_store_is_refused_for_worker_processes(client: Any) -> None:
    x = da.ones((10,), chunks=5)
    with pytest.raises(ValueError, match=r"lives in this process.*path or URL"):
        zarrlayered.from_dask(x, MemoryStore())
    with threads():  # threads share the store: fine
        assert zarrlayered.from_dask(x, MemoryStore())[:].sum() == 10


# -- alignment, naming, arguments (threaded scheduler) ---------------------------------------------------
def test_to_dask_aligns_to_chunks_or_shards_and_names_deterministically(tmp_path: Path) -> None:
    plain = zarrlayered.create_array(str(tmp_path / "p.zarr"), shape=(1000, 30), chunks=(100, 7), dtype="i2")
    plain[:] = np.arange(30_000, dtype="i2").reshape(1000, 30)
    assert zarrlayered.to_dask(plain, chunks=(250, 30)).chunks == ((200, 300, 200, 300), (30,))
    assert zarrlayered.to_dask(plain, chunks=(250, 30), align=False).chunks == ((250,) * 4, (30,))
    assert zarrlayered.to_dask(plain, chunks={0: 90}).chunks[0] == (100,) * 10
    again = zarrlayered.open_array(str(tmp_path / "p.zarr"))
    assert zarrlayered.to_dask(again).name == zarrlayered.to_dask(plain).name
    assert zarrlayered.to_dask(again, chunks=(100, 30)).name != zarrlayered.to_dask(plain).name
    assert zarrlayered.to_dask(again, name="mine").name == "mine"
    with threads():
        np.testing.assert_array_equal(zarrlayered.to_dask(again, chunks=(300, 30)).compute(), plain[:])

    sharded = zarrlayered.create_array(LocalStore(tmp_path / "s.zarr"), shape=(1000,), chunks=(10,), shards=(200,),
                                       dtype="f4")
    assert storage_edges(sharded) == ((200, 400, 600, 800),)
    assert all(c % 200 == 0 for c in zarrlayered.to_dask(sharded, chunks=130).chunks[0][:-1])
    assert zarrlayered.to_dask(sharded, chunks=10, align=False).chunks[0] == (10,) * 100  # inner chunks
    rectilinear = zarrlayered.create_array({}, shape=(10, 6), chunks=[[3, 7], [2, 2, 2]], dtype="i1")
    assert storage_edges(rectilinear) == ((3,), (2, 4))
    assert zarrlayered.to_dask(rectilinear, chunks=(5, 3)).chunks == ((3, 7), (2, 4))


def test_from_dask_rechunks_straddling_blocks_with_a_warning(tmp_path: Path) -> None:
    x = da.arange(1000, dtype="i4", chunks=130)
    with threads(), pytest.warns(DaskAlignmentWarning, match=r"straddle the chunks \(100,\)"):
        array = zarrlayered.from_dask(x, str(tmp_path / "w.zarr"), chunks=100)
    np.testing.assert_array_equal(array[:], np.arange(1000))
    with threads(), warnings.catch_warnings():
        warnings.simplefilter("error", DaskAlignmentWarning)
        kept = zarrlayered.from_dask(x, str(tmp_path / "k.zarr"), chunks=100, synchronizer=ThreadSynchronizer())
        regular = zarrlayered.from_dask(x, str(tmp_path / "r.zarr"))  # storage chunks = the Dask blocks
    np.testing.assert_array_equal(kept[:], np.arange(1000))
    assert regular.chunks == (130,)
    with threads(), pytest.warns(DaskAlignmentWarning, match=r"straddle the shards \(200,\)"):
        sharded = zarrlayered.from_dask(x, str(tmp_path / "s.zarr"), chunks=(50,), shards=(200,), path="deep/a")
    assert (sharded.shards, sharded.chunks, sharded.path) == ((200,), (50,), "deep/a")
    np.testing.assert_array_equal(sharded[:], np.arange(1000))


def test_from_dask_arguments_and_edge_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with threads():
        v2 = zarrlayered.from_dask(da.full((4, 5), 2.5, chunks=2), str(tmp_path / "v2.zarr"), zarr_format=2,
                                   attributes={"units": "m"}, fill_value=0.0, progress=True)
        assert "write: 100%" in capsys.readouterr().err  # the local scheduler's bar
        assert (v2.zarr_format, v2.attrs["units"], v2[:].sum()) == (2, "m", 50.0)
        scalar = zarrlayered.from_dask(da.from_array(np.array(7, dtype="u1")), str(tmp_path / "0d.zarr"))
        assert scalar.shape == () and scalar[()] == 7
        empty = zarrlayered.from_dask(da.zeros((0, 3), chunks=(1, 3)), str(tmp_path / "e.zarr"))
        assert empty.shape == (0, 3)
        unknown = da.arange(10, chunks=5)[da.arange(10, chunks=5) > 3]
        with pytest.raises(ValueError, match="unknown chunk sizes"):
            zarrlayered.from_dask(unknown, str(tmp_path / "u.zarr"))
    with pytest.raises(TypeError, match=r"dask\.array\.Array, got ndarray"):
        zarrlayered.from_dask(np.zeros(3), str(tmp_path / "n.zarr"))  # type: ignore[arg-type]


def test_dask_is_imported_only_when_used(tmp_path: Path) -> None:
    """Without Dask (blocked in a subprocess), zarrlayered imports and the helpers explain what is missing."""
    code = (
        "import sys\n"
        "sys.modules['dask'] = None  # as if Dask were not installed\n"
        "import zarrlayered\n"
        "arr = zarrlayered.create_array({}, shape=(4,), dtype='i1')\n"
        "try:\n"
        "    zarrlayered.to_dask(arr)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "need Dask, which is not installed" in result.stdout and "dask[array]" in result.stdout
    plain = subprocess.run([sys.executable, "-c", "import sys, zarrlayered; print('dask' in sys.modules)"],
                           capture_output=True, text=True, timeout=60, check=True)
    assert plain.stdout.strip() == "False"
