"""Memory bounds for tests: the traced allocation peak of a block, asserted (counts, never timings)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def peak_below(limit: int) -> Iterator[None]:
    """Assert the traced allocation peak inside the block stays below ``limit`` bytes."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, f"allocated {peak} bytes at the peak"
