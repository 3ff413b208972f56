"""Lower bounds of a full read of the 1 MiB workloads: work that every reader on this machine must do.

Timed in ``make bench`` in the same repetitions as the reads (so under the same noise), on a pool of
2 threads (the machine's cores), with nothing else:

- uncompressed: one contiguous copy of the whole 64 MiB into a fresh array (numpy's ``copyto``, half per
  thread). Any reader must bring the data into new memory the kernel faults in; this does only that,
  from memory, in the fastest way numpy copies, without a system call or a non-contiguous chunk;
- zstd: libzstd (through numcodecs, ``decode(..., out=)``) decoding every chunk into a buffer per
  thread. Decoding is work no reader can skip; this leaves out reading the files and placing the chunks.

A target that asks for less time than its bound is beyond any library (on this machine, with these
codecs); one just above it asks for about memcpy or libzstd speed from the whole read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from workloads import ArraySpec, PlainLoop, Workload, chunk_places, on_two_threads

__all__ = ["describe", "lower_bound"]


def describe(spec: ArraySpec) -> str:
    """What the bound of ``spec``'s full read times, in words."""
    if spec.zstd_level is not None:
        return "libzstd decoding the chunks alone, 2 threads"
    return "one contiguous copy of the data into a fresh array, 2 threads"


def lower_bound(workload: Workload, data: np.ndarray) -> Callable[[], None] | None:
    """The timed callable of the bound of ``workload``'s full read, or None when it has none (only the
    workloads the plain loop runs, the 1 MiB chunks, have one)."""
    spec = workload.spec
    if not PlainLoop().supports(spec):
        return None
    if spec.zstd_level is None:
        flat = np.ascontiguousarray(data).reshape(-1)
        half = -(-flat.size // 2)

        def copy_all() -> None:
            out = np.empty_like(flat)
            on_two_threads(lambda i: np.copyto(out[i * half : (i + 1) * half], flat[i * half : (i + 1) * half]), [0, 1])

        return copy_all

    import numcodecs

    codec = numcodecs.Zstd(level=spec.zstd_level)
    encoded = [codec.encode(np.ascontiguousarray(data[place])) for place in chunk_places(spec)]
    scratch = threading.local()

    def decode_one(i: int) -> None:
        buffer = getattr(scratch, "buffer", None)
        if buffer is None:
            buffer = scratch.buffer = np.empty(spec.chunks, dtype=spec.dtype)
        codec.decode(encoded[i], out=buffer)

    return lambda: on_two_threads(decode_one, list(range(len(encoded))))
