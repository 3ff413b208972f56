"""Load: 10,000 concurrent small reads and writes through the async API, with bounded memory and no
file-descriptor leak.

One ``asyncio.gather`` runs 5,000 single-element writes (five per chunk, so every chunk is
read-merge-written by five tasks at once) and 5,000 single-element reads, over an :class:`AsyncArray` on a
LocalStore and on a MemoryStore. Every value must come back right; the peak of the memory traced by
:mod:`tracemalloc` during the run must stay under :data:`PEAK_BYTES_PER_OPERATION` per operation in flight
(the coroutines and tasks themselves, which the caller creates, included); and the process must hold the
same open file descriptors (``/proc/self/fd``) before and after.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from zarrlayered.api import asynchronous as async_api
from zarrlayered.stores import LocalStore, MemoryStore

#: Operations in flight at once (half writes, half reads), over an array of as many elements.
OPERATIONS = N = 10_000
CHUNK = 10
#: The bound on the traced peak, per concurrent operation (measured: about 2.5 KiB per operation).
PEAK_BYTES_PER_OPERATION = 8 * 1024

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc/self/fd"),
]


def _open_fds() -> set[str]:
    gc.collect()
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("store_kind", ["local", "memory"])
async def test_ten_thousand_concurrent_reads_and_writes(tmp_path: Path, store_kind: str) -> None:
    store = LocalStore(tmp_path / "load.zarr") if store_kind == "local" else MemoryStore()
    initial = np.arange(N, dtype="<i8")
    arr = await async_api.create_array(store, data=initial, chunks=(CHUNK,), fill_value=-1)
    # warm up: the worker pool's threads exist before counting
    assert int(await arr.getitem(0)) == 0
    fds_before = _open_fds()

    # 5,000 single-element writes of the odd elements (five per chunk: every chunk is read-merge-written
    # by five tasks at once) and 5,000 reads of the even ones, all in flight together
    new = initial * 7
    tracemalloc.start()
    try:
        writes = [arr.setitem(i, new[i]) for i in range(1, N, 2)]
        reads = [arr.getitem(i) for i in range(0, N, 2)]
        results = await asyncio.gather(*writes, *reads)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(results) == OPERATIONS
    np.testing.assert_array_equal(np.array([int(v) for v in results[len(writes) :]]), initial[0::2])
    expected = initial.copy()
    expected[1::2] = new[1::2]
    np.testing.assert_array_equal(await arr.getitem(slice(None)), expected)
    # the memory stays proportional to the operations in flight, nothing more
    assert peak < PEAK_BYTES_PER_OPERATION * OPERATIONS, f"traced peak {peak / 2**20:.1f} MiB"
    if store_kind == "local":
        assert len(list((tmp_path / "load.zarr" / "c").iterdir())) == N // CHUNK
    assert _open_fds() == fds_before, "file descriptors leaked"
    sys.stdout.write(f"{store_kind}: traced peak {peak / 2**20:.1f} MiB for {OPERATIONS} concurrent operations\n")
