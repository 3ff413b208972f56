"""Runtime configuration of zarrlayered.

The configuration is a :class:`donfig.Config` named ``zarrlayered``: values are read with
``config.get("async.concurrency")``, changed for a block with ``with config.set({...}):`` (or for good
with a plain call), and overridden from the environment with ``ZARRLAYERED_*`` variables, where a double
underscore separates levels: ``ZARRLAYERED_ASYNC__CONCURRENCY=32``. Environment values are parsed as
Python literals (``7``, ``True``, ``None``, ``'nest'``); anything else stays a string.

The documented settings (see :data:`DEFAULTS`):

``async.concurrency`` (64)
    Upper bound on store operations and blocking calls in flight at once, across the whole process.
``async.timeout`` (None)
    Seconds any single sync-bridge call may take (opening a node included); None means no limit. Remote
    stores (async fsspec filesystems: S3, GCS, HTTP) also bound each request by it, so the async API
    cannot hang on a server that accepts connections and never answers.
``async.mode`` ("thread")
    ``"thread"`` runs coroutines on the library's own IO loop thread; ``"nest"`` (opt-in) runs them on the
    caller's running event loop through nest_asyncio.
``threading.max_workers`` (None)
    Size of the shared worker pool for blocking store calls and CPU-heavy codecs; None fits the machine.
``array.write_empty_chunks`` (False)
    Whether a chunk equal to the fill value everywhere is written (True) or deleted (False).
``array.order`` ("C")
    Memory order of new arrays.
``default_zarr_format`` (3)
    Zarr format of new arrays and groups when none is given.
``store.retries`` (3)
    How many times a remote store (FsspecStore) retries an operation that failed with a transient error
    (connection refused or reset, a timeout, an HTTP 5xx); 0 disables retrying. After the last attempt it
    raises :class:`~zarrlayered.stores.fsspec.FsspecStoreError`, an OSError naming the key.
``store.retry_backoff`` (0.1)
    Seconds before the first retry; each further retry waits twice as long as the one before (at most
    ``store.retry_backoff_max``, 10 s by default).
``codecs.allow_pickle`` (False)
    The numcodecs Pickle codec runs code from the data it decodes: refused unless this is True.
``codecs.vlen_max_ratio`` (16384)
    A variable-length string or bytes chunk may decode to at most this many times its encoded size (plus
    a little per item, never past 1 GiB): a bound against decompression bombs. Real text compresses far
    less; raise it for chunks of one character repeated millions of times.

A bad value is reported when it is used, by the accessor functions below, with a :class:`ValueError`
naming the setting and the value. This module imports nothing else from the package, so every layer may
read it.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Final

from donfig import Config

__all__ = [
    "DEFAULTS",
    "allow_pickle",
    "array_order",
    "async_mode",
    "concurrency",
    "config",
    "default_zarr_format",
    "max_workers",
    "parse_async_mode",
    "retries",
    "retry_delays",
    "timeout",
    "write_empty_chunks",
]

#: The documented settings and their defaults.
DEFAULTS: Final[dict[str, Any]] = {
    "default_zarr_format": 3,
    "async": {
        "concurrency": 64,
        "timeout": None,
        "mode": "thread",
    },
    "threading": {
        "max_workers": None,
    },
    "array": {
        "write_empty_chunks": False,
        "order": "C",
    },
    "codecs": {
        "allow_pickle": False,
        "vlen_max_ratio": 16_384,
    },
    "store": {
        "retries": 3,
        "retry_backoff": 0.1,
        "retry_backoff_max": 10.0,
    },
}

config: Final[Config] = Config("zarrlayered", defaults=[DEFAULTS], env_prefix="ZARRLAYERED_")

_ASYNC_MODES: Final = ("thread", "nest")
_TRUE_WORDS: Final = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS: Final = frozenset({"false", "no", "off", "0"})


def parse_async_mode(value: object) -> str:
    """Return ``value`` if it names a supported ``async.mode``, else raise a ValueError naming it."""
    if not isinstance(value, str) or value not in _ASYNC_MODES:
        raise ValueError(f"config 'async.mode' must be one of {_ASYNC_MODES}, got {value!r}")
    return value


def _positive_int(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"config {key!r} must be a positive integer, got {value!r}")
    return value


def _flag(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        return value.strip().lower() in _TRUE_WORDS
    raise ValueError(f"config {key!r} must be True or False, got {value!r}")


def async_mode() -> str:
    """The sync bridge's mode (``async.mode``): ``"thread"`` (default) or ``"nest"``."""
    return parse_async_mode(config.get("async.mode"))


@functools.cache
def _default_workers() -> int:
    return max(4, min(32, (os.cpu_count() or 1) + 4))  # os.cpu_count() is slow: asked once


def max_workers() -> int:
    """The size of the shared worker pool: ``threading.max_workers``, or a default fitted to the machine."""
    configured = config.get("threading.max_workers")
    if configured is None:
        return _default_workers()
    return _positive_int("threading.max_workers", configured)


def concurrency() -> int:
    """The global limit on store operations in flight (``async.concurrency``)."""
    return _positive_int("async.concurrency", config.get("async.concurrency"))


def timeout() -> float | None:
    """The per-call time limit of the sync bridge (``async.timeout``), in seconds, or None."""
    value = config.get("async.timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"config 'async.timeout' must be a positive number of seconds or None, got {value!r}")
    return float(value)


def write_empty_chunks() -> bool:
    """Whether chunks holding only the fill value are written (``array.write_empty_chunks``)."""
    return _flag("array.write_empty_chunks", config.get("array.write_empty_chunks"))


def array_order() -> str:
    """The memory order of new arrays (``array.order``): ``"C"`` or ``"F"``."""
    value = config.get("array.order")
    if value not in ("C", "F"):
        raise ValueError(f"config 'array.order' must be 'C' or 'F', got {value!r}")
    assert isinstance(value, str)
    return value


def default_zarr_format() -> int:
    """The Zarr format of new nodes when none is given (``default_zarr_format``): 2 or 3."""
    value = config.get("default_zarr_format")
    if isinstance(value, bool) or value not in (2, 3):
        raise ValueError(f"config 'default_zarr_format' must be 2 or 3, got {value!r}")
    assert isinstance(value, int)
    return value


def allow_pickle() -> bool:
    """Whether the numcodecs Pickle codec may decode data (``codecs.allow_pickle``)."""
    return _flag("codecs.allow_pickle", config.get("codecs.allow_pickle"))


def retries() -> int:
    """How many times a remote store retries an operation after a transient failure (``store.retries``)."""
    value = config.get("store.retries")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"config 'store.retries' must be a non-negative integer, got {value!r}")
    return value


def _seconds(key: str) -> float:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"config {key!r} must be a non-negative number of seconds, got {value!r}")
    return float(value)


def retry_delays() -> tuple[float, ...]:
    """The waits before each retry of a remote store operation, from ``store.retries``,
    ``store.retry_backoff`` (the first wait) and ``store.retry_backoff_max`` (the longest); each wait
    doubles the one before."""
    count = retries()
    first, longest = _seconds("store.retry_backoff"), _seconds("store.retry_backoff_max")
    return tuple(min(first * 2.0**attempt, longest) for attempt in range(count))
