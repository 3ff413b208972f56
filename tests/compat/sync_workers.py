"""Worker functions for the ProcessSynchronizer tests (importable by spawned processes)."""

from __future__ import annotations

#: Writers, and rounds per writer: element i is written once, by writer (i % STRIDE) // ROUNDS.
WRITERS = 4
ROUNDS = 8
STRIDE = WRITERS * ROUNDS


def write_my_elements(path: str, lock_dir: str, writer: int) -> int:
    """Write, round by round, every STRIDE-th element this writer owns: each write is a partial write of
    every chunk, so all writers read-merge-write the same chunks at the same time."""
    import zarrlayered
    from zarrlayered.compat.synchronizers import ProcessSynchronizer

    arr = zarrlayered.open_array(path, mode="r+", synchronizer=ProcessSynchronizer(lock_dir))
    for r in range(ROUNDS):
        first = writer * ROUNDS + r
        arr[first::STRIDE] = first + 1
    return writer
