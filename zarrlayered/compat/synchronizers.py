"""Synchronizers: per-chunk locks so that writers in several threads or processes lose no update.

Writing part of a chunk reads the chunk, merges the new values in and writes it back. Two writers doing
that to one chunk at once lose one of the updates unless they take turns. Without a synchronizer, processes
writing parts of the same chunk (or shard) therefore lose updates: the last writer of a chunk wins. Nothing
is corrupted, though (a LocalStore or object-store write replaces a value whole), and processes writing
disjoint, chunk-aligned (shard-aligned for sharded arrays) regions need no synchronizer at all.

Inside one process the engine takes turns on its own (a striped table of thread locks); a
*synchronizer* supplies the lock instead:

- :class:`ThreadSynchronizer` — a thread lock per chunk key, like zarr-python 2's;
- :class:`ProcessSynchronizer` — a lock file per chunk key under a directory every process can reach
  (``fcntl.flock``, so POSIX only, and a directory on a local filesystem: network filesystems may not
  honour it), like zarr-python 2's (which used the ``fasteners`` package).

Pass one to :func:`zarrlayered.open_array` or :func:`zarrlayered.create_array` (``synchronizer=``).
Every chunk write then holds the key's lock, whole-chunk writes included. Any object whose ``[key]`` gives
a lock with ``acquire(blocking=...)`` and ``release()`` works too, zarr-python 2's synchronizers among them.

Only chunk writes are synchronized: attribute updates and resizes from several processes at once are
not (zarr-python 2 also locked those).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from zarrlayered.core.codec_pipeline import ChunkLock
from zarrlayered.stores.abc import validate_key

__all__ = ["ChunkLock", "ProcessLock", "ProcessSynchronizer", "Synchronizer", "ThreadSynchronizer"]


@runtime_checkable
class Synchronizer(Protocol):
    """Gives the lock of a store key."""

    def __getitem__(self, key: str) -> Any: ...


class ThreadSynchronizer:
    """One :class:`threading.Lock` per chunk key, for writers in threads of one process.

    Examples
    --------
    >>> sync = ThreadSynchronizer()
    >>> with sync["a/0.0"]:
    ...     pass
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def __getitem__(self, key: str) -> threading.Lock:
        with self._mutex:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

    def __len__(self) -> int:
        """How many keys have a lock."""
        return len(self._locks)

    def __contains__(self, key: object) -> bool:
        return key in self._locks

    def __reduce__(self) -> tuple[Any, ...]:
        return (ThreadSynchronizer, ())

    def __repr__(self) -> str:
        return f"ThreadSynchronizer(<{len(self._locks)} keys>)"


class ProcessLock:
    """An exclusive lock on one lock file, shared by the threads and processes that use that path.

    A thread lock serializes the threads of this process (``flock`` locks belong to an open file, and
    threads must not share one); the file lock, held on a file opened for the purpose and closed on
    release, serializes processes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._thread_lock = threading.Lock()
        self._fd: int | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; with ``blocking=False`` return False at once when it is held."""
        import fcntl

        if not self._thread_lock.acquire(blocking, timeout):
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except BaseException:
            self._thread_lock.release()
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException as exc:
            os.close(fd)
            self._thread_lock.release()
            if isinstance(exc, BlockingIOError):
                return False
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back."""
        import fcntl

        fd, self._fd = self._fd, None
        if fd is None:
            raise RuntimeError(f"release of an unlocked ProcessLock {self.path}")
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            self._thread_lock.release()

    def locked(self) -> bool:
        """True while this process holds the lock."""
        return self._fd is not None

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"ProcessLock({str(self.path)!r})"


class ProcessSynchronizer:
    """One lock file per chunk key under ``path``, for writers in several processes (and their threads).

    Every process writing the array makes its own ``ProcessSynchronizer`` with the same ``path`` (a
    directory on a local filesystem; it is created when missing). The lock of key ``"a/0.0"`` is the file
    ``<path>/a/0.0``. Needs ``fcntl`` (Linux, macOS and other POSIX systems).

    Examples
    --------
    >>> import tempfile
    >>> sync = ProcessSynchronizer(tempfile.mkdtemp())
    >>> with sync["a/0.0"]:
    ...     pass
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"ProcessSynchronizer path must be a str or path, got {type(path).__name__}: {path!r}")
        try:
            import fcntl  # noqa: F401
        except ImportError:
            raise RuntimeError("ProcessSynchronizer needs fcntl (a POSIX system)") from None
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._mutex = threading.Lock()
        self._locks: dict[str, ProcessLock] = {}

    def __getitem__(self, key: str) -> ProcessLock:
        with self._mutex:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = ProcessLock(self.path / validate_key(key))
            return lock

    def __reduce__(self) -> tuple[Any, ...]:
        return (ProcessSynchronizer, (self.path,))

    def __repr__(self) -> str:
        return f"ProcessSynchronizer({str(self.path)!r})"
