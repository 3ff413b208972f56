"""Runtime configuration of zarrlayered.

The configuration is a :class:`donfig.Config` named ``zarrlayered``: values are read with
``config.get("async.concurrency")``, changed for a block with ``with config.set({...}):`` (or for good
with a plain call), and overridden from the environment with ``ZARRLAYERED_*`` variables, where a double
underscore separates levels: ``ZARRLAYERED_ASYNC__CONCURRENCY=32``.

This module imports nothing else from the package, so every layer may read it.
"""

from __future__ import annotations

import os
from typing import Any, Final

from donfig import Config

__all__ = ["DEFAULTS", "config", "parse_async_mode"]

#: The documented settings and their defaults.
DEFAULTS: Final[dict[str, Any]] = {
    "default_zarr_format": 3,
    "async": {
        # Upper bound on store operations in flight at once, across the whole process.
        "concurrency": 64,
        # Seconds any single sync-bridge call may take; None means no limit.
        "timeout": None,
        # "thread": run coroutines on the library's own IO loop thread (the default).
        # "nest": run them on the caller's running loop through nest_asyncio (opt-in).
        "mode": "thread",
    },
    "threading": {
        # Worker threads for blocking store calls and CPU-heavy codecs; None means os.cpu_count() based.
        "max_workers": None,
    },
    "array": {
        "write_empty_chunks": False,
        "order": "C",
    },
    "codecs": {
        # The numcodecs Pickle codec runs code from the data it decodes: refused unless this is True.
        "allow_pickle": False,
    },
}

config: Final[Config] = Config("zarrlayered", defaults=[DEFAULTS], env_prefix="ZARRLAYERED_")

_ASYNC_MODES: Final = ("thread", "nest")


def parse_async_mode(value: object) -> str:
    """Return ``value`` if it names a supported ``async.mode``, else raise a ValueError naming it."""
    if value not in _ASYNC_MODES:
        raise ValueError(f"config 'async.mode' must be one of {_ASYNC_MODES}, got {value!r}")
    assert isinstance(value, str)
    return value


def max_workers() -> int:
    """The size of the shared worker pool: ``threading.max_workers``, or a default fitted to the machine."""
    configured = config.get("threading.max_workers")
    if configured is None:
        return max(4, min(32, (os.cpu_count() or 1) + 4))
    if not isinstance(configured, int) or configured < 1:
        raise ValueError(f"config 'threading.max_workers' must be a positive integer, got {configured!r}")
    return configured


def concurrency() -> int:
    """The global limit on store operations in flight (``async.concurrency``)."""
    value = config.get("async.concurrency")
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"config 'async.concurrency' must be a positive integer, got {value!r}")
    return value


def timeout() -> float | None:
    """The per-call time limit of the sync bridge (``async.timeout``), in seconds, or None."""
    value = config.get("async.timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"config 'async.timeout' must be a positive number of seconds or None, got {value!r}")
    return float(value)
