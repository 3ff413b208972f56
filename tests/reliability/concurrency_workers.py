"""Writer processes of the concurrency tests (importable: preloaded into the fork server).

Every element ``i`` of the test arrays is meant to end up as ``i + 1``; the fill value is 0, so an element
still 0 after all writers finished is a lost update.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import zarrlayered
from zarrlayered.compat.synchronizers import ProcessSynchronizer

#: Writer processes, and rounds per writer in the overlapping test: element i is written once, by writer
#: (i % STRIDE) // ROUNDS, in round (i % STRIDE) % ROUNDS.
WRITERS = 4
ROUNDS = 6
STRIDE = WRITERS * ROUNDS


def expected(shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """What every test array holds once all writers are done: element i (C order) is i + 1."""
    return (np.arange(int(np.prod(shape)), dtype="<i8") + 1).reshape(shape)


def write_rows(path: str, start: int, stop: int, step: int) -> int:
    """Write rows ``start:stop`` of the 2-d array at ``path`` with their expected values, ``step`` rows at a
    time (each step is one chunk- or shard-aligned write)."""
    arr = zarrlayered.open_array(path, mode="r+")
    full = expected(arr.shape)
    for row in range(start, stop, step):
        arr[row : row + step] = full[row : row + step]
    return start


def write_strided(path: str, lock_dir: str | None, writer: int) -> int:
    """Write, round by round, every STRIDE-th element this writer owns: every write is a partial write of
    every chunk (and shard), so all writers read-merge-write the same chunks at the same time."""
    synchronizer = None if lock_dir is None else ProcessSynchronizer(lock_dir)
    arr = zarrlayered.open_array(path, mode="r+", synchronizer=synchronizer)
    full = expected(arr.shape)
    for r in range(ROUNDS):
        first = writer * ROUNDS + r
        arr[first::STRIDE] = full[first::STRIDE]
    return writer
