"""Peak memory (and I/O) of reads from a plain and a sharded array: zarrlayered, zarr-python 3 and tensorstore.

Run it as ``python benchmarks/memory.py`` (it is not part of ``make test``; it takes about three minutes and
about 7.5 GB of memory at its peak, zarr-python's). ``benchmarks/run.py`` (``make bench``) runs the same
measurements through :func:`measure_all`. It writes one 512 MiB float32 array of random numbers twice
into a temporary directory (plain chunks, and shards of inner chunks; both with zarr-python 3's default
zstd compressor), then reads the same 256 MiB subset in three indexing styles, the subsets of
zarr-python issues #3641 and #3164:

``basic``   ``a[2:6]``
``oindex``  ``a.oindex[[2, 3, 4, 5], :, :]``
``vindex``  ``a.vindex[np.ix_([2, 3, 4, 5], range(4096), range(4096))]`` (an open mesh of index arrays)

``zarrlayered`` reads through its synchronous path (local files answer synchronously);
``zarrlayered-async`` drives the engine's async path (the one remote stores take) on the IO loop;
``tensorstore`` opens the array with its ``zarr3`` driver and reads with ``.read().result()``. Each
read runs in a fresh Python process that only opens the array, builds the selection, reads and reports:

- the peak RSS of the read above the RSS just before it: the kernel's high-water mark of the process
  (``VmHWM`` in ``/proc/self/status``, reset through ``/proc/self/clear_refs`` just before the read).
  Unlike ``ru_maxrss`` it does not inherit the peak of the process that started the child;
- the peak of the memory traced by ``tracemalloc`` during the read (numpy arrays and Python bytes), in a
  second fresh process, since tracing slows the read down and costs memory of its own (zarrlayered and
  zarr-python only: tensorstore allocates in C++, out of tracemalloc's sight);
- the wall-clock time of the read (from the untraced run).

Both peaks include the result itself; the ratio columns divide by the result's size. The bound asked of
zarrlayered (issue 8) is 1.5 x the result plus two stored objects (a 4 MiB chunk, or a 16 MiB shard).
A second table counts the store requests and bytes of small reads of the sharded array (a counting store
wraps each library's local store). The output is Markdown on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHAPE = (8, 4096, 4096)
DTYPE = "float32"
PLAIN_CHUNKS = (1, 1024, 1024)
INNER_CHUNKS = (1, 512, 512)
SHARDS = (1, 2048, 2048)
SELECTIONS = ("basic", "oindex", "vindex")
LIBRARIES = ("zarrlayered", "zarrlayered-async", "zarr-python", "tensorstore")
#: Libraries whose allocations tracemalloc sees.
TRACEABLE = ("zarrlayered", "zarrlayered-async", "zarr-python")
LAYOUTS = ("plain", "sharded")
#: Small reads of the sharded array whose I/O is counted: (name, Python expression on ``a``).
IO_READS = (
    ("one element", "a[3, 1000, 1000]"),
    ("one element, oindex", "a.oindex[[3], [1000], [1000]]"),
    ("one element, vindex", "a.vindex[[3], [1000], [1000]]"),
    ("a row", "a[3, 1000, :]"),
    ("a row, oindex", "a.oindex[[3], [1000], :]"),
    ("100 rows", "a[3, 1000:1100, :]"),
    ("100 rows, oindex", "a.oindex[[3], list(range(1000, 1100)), :]"),
    ("64 scattered points, vindex", "a.vindex[[3] * 64, list(range(0, 4096, 64)), list(range(0, 4096, 64))]"),
)
MIB = 1 << 20

_MEMORY_CHILD = r"""
import hashlib, json, os, sys, time, tracemalloc
import numpy as np

library, path, selection, traced = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"


class _View:  # a[...], a.oindex[...], a.vindex[...] through one function: read(kind, selection)
    def __init__(self, read, kind=None):
        self._read, self._kind = read, kind

    def __getitem__(self, selection):
        return self._read(self._kind or "basic", selection)

    @property
    def oindex(self):
        return _View(self._read, "orthogonal")

    @property
    def vindex(self):
        return _View(self._read, "vindex")


if library == "tensorstore":
    import tensorstore as ts

    store = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}, read=True).result()
    views = {"basic": store, "orthogonal": store.oindex, "vindex": store.vindex}
    arr = _View(lambda kind, sel: views[kind][sel].read().result())
    shape = store.shape
elif library.startswith("zarrlayered"):
    import zarrlayered as lib
    from zarrlayered.core.sync import sync

    arr = lib.open_array(path, mode="r")
    shape = arr.shape
    if library == "zarrlayered-async":  # the engine's async path (what remote stores take), run on the IO loop
        engine = arr.async_array
        arr = _View(lambda kind, sel: sync(engine.get_selection(sel, kind)))
else:
    import zarr as lib

    arr = lib.open_array(path, mode="r")
    shape = arr.shape


def status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


planes = [2, 3, 4, 5]
if selection == "basic":
    read = lambda: arr[2:6]
elif selection == "oindex":
    read = lambda: arr.oindex[planes, :, :]
else:
    mesh = np.ix_(planes, np.arange(shape[1]), np.arange(shape[2]))
    read = lambda: arr.vindex[mesh]
try:  # reset the high-water mark of this process's RSS to its current RSS
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
base_rss = status("VmRSS")
if traced:
    tracemalloc.start()
started = time.perf_counter()
out = read()
elapsed = time.perf_counter() - started
result = {"elapsed": elapsed, "nbytes": int(out.nbytes)}
if traced:
    result["traced_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
else:
    result["rss_peak"] = status("VmHWM") - base_rss
result["digest"] = hashlib.blake2b(np.ascontiguousarray(out, dtype="<f4")).hexdigest()
print(json.dumps(result))
"""

_IO_CHILD = r"""
import json, sys, time
import numpy as np

library, path = sys.argv[1], sys.argv[2]
reads = json.loads(sys.argv[3])
if library == "zarrlayered":
    import zarrlayered
    from zarrlayered.stores import LocalStore, LoggingStore

    store = LoggingStore(LocalStore(path, read_only=True))
    a = zarrlayered.open_array(store, mode="r")

    def reset():
        store.reset_counts()

    def counts():
        return sum(store.counter.values()), store.bytes_read
else:
    import zarr
    from zarr.storage import LocalStore

    tally = {"requests": 0, "bytes": 0}

    class CountingStore(LocalStore):
        async def get(self, key, prototype=None, byte_range=None):
            value = await super().get(key, prototype, byte_range)
            tally["requests"] += 1
            tally["bytes"] += 0 if value is None else len(value)
            return value

        async def get_partial_values(self, prototype, key_ranges):
            key_ranges = list(key_ranges)
            values = await super().get_partial_values(prototype, key_ranges)
            tally["requests"] += len(key_ranges)
            tally["bytes"] += sum(0 if v is None else len(v) for v in values)
            return values

    a = zarr.open_array(CountingStore(path, read_only=True), mode="r")

    def reset():
        tally["requests"] = tally["bytes"] = 0

    def counts():
        return tally["requests"], tally["bytes"]

out = {}
for name, expression in reads:
    eval(expression)  # warm up (metadata, imports)
    reset()
    started = time.perf_counter()
    value = np.asarray(eval(expression))
    elapsed = time.perf_counter() - started
    requests, nbytes = counts()
    out[name] = {"requests": requests, "bytes": nbytes, "elapsed": elapsed, "sum": float(value.sum(dtype="f8"))}
print(json.dumps(out))
"""

_WRITER = f"""
import hashlib, sys
import numpy as np
import zarrlayered

data = np.random.default_rng(0).standard_normal({SHAPE}, dtype=np.float32)
zarrlayered.create_array(sys.argv[1], shape={SHAPE}, chunks={PLAIN_CHUNKS}, dtype="{DTYPE}")[...] = data
sharded = zarrlayered.create_array(sys.argv[2], shape={SHAPE}, chunks={INNER_CHUNKS}, shards={SHARDS}, dtype="{DTYPE}")
sharded[...] = data
print(hashlib.blake2b(np.ascontiguousarray(data[2:6], dtype="<f4")).hexdigest())
"""


@dataclass(frozen=True)
class Arrays:
    """The two arrays on disk and the digest of the subset every read must return."""

    paths: dict[str, str]
    digest: str


@dataclass(frozen=True)
class MemoryResult:
    """One read of the 256 MiB subset: its time and peaks (bytes, the result included)."""

    layout: str
    library: str
    selection: str
    elapsed: float
    nbytes: int
    rss_peak: int
    traced_peak: int | None

    @property
    def bound(self) -> int:
        """The peak allowed (issue 8): 1.5 x the result plus two stored objects."""
        return int(1.5 * self.nbytes) + 2 * stored_object_bytes(self.layout)


def stored_object_bytes(layout: str) -> int:
    """The decoded size of one stored object of a layout: a plain chunk, or a whole shard."""
    return 4 * math.prod(PLAIN_CHUNKS if layout == "plain" else SHARDS)


def write_arrays(root: Path) -> Arrays:
    """Write the plain and the sharded array (with zarrlayered, in a subprocess) and return where they are.

    The data never enters this process, so it stays small for the children it starts.
    """
    paths = {"plain": str(root / "plain.zarr"), "sharded": str(root / "sharded.zarr")}
    proc = subprocess.run(
        [sys.executable, "-c", _WRITER, paths["plain"], paths["sharded"]], capture_output=True, text=True, check=True
    )
    return Arrays(paths, proc.stdout.split()[-1])


def _run(*argv: str) -> Any:
    proc = subprocess.run([sys.executable, "-c", *argv], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[1:]} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(library: str, path: str, selection: str, traced: bool) -> dict[str, Any]:
    """Run one read in a fresh interpreter and return what it reports."""
    return dict(_run(_MEMORY_CHILD, library, path, selection, "1" if traced else "0"))


def measure_all(
    arrays: Arrays,
    libraries: Sequence[str] = LIBRARIES,
    layouts: Sequence[str] = LAYOUTS,
    selections: Sequence[str] = SELECTIONS,
    traced: bool = False,
) -> list[MemoryResult]:
    """Measure every (layout, library, selection), each in fresh processes; every read is checked.

    Raises
    ------
    RuntimeError
        When a read returns other data than the array holds.
    """
    results = []
    for layout in layouts:
        for library in libraries:
            for selection in selections:
                untraced = measure(library, arrays.paths[layout], selection, traced=False)
                peak = None
                if traced and library in TRACEABLE:
                    peak = measure(library, arrays.paths[layout], selection, traced=True)["traced_peak"]
                print(
                    f"memory: {layout} {library} {selection}: {untraced['elapsed']:.2f} s, "
                    f"peak RSS {untraced['rss_peak'] / MIB:.0f} MiB, traced peak {peak}",
                    file=sys.stderr,
                )
                if untraced["digest"] != arrays.digest:
                    raise RuntimeError(f"{library} read other data than was written ({layout}, {selection})")
                results.append(
                    MemoryResult(
                        layout, library, selection, untraced["elapsed"], untraced["nbytes"], untraced["rss_peak"], peak
                    )
                )
    return results


def memory_table(results: Sequence[MemoryResult]) -> list[str]:
    """The Markdown lines of the memory table."""
    shard_mib = stored_object_bytes("sharded") / MIB
    lines = [
        f"Reading 256 MiB of a {SHAPE} float32 array (random data, zstd). Plain chunks {PLAIN_CHUNKS};",
        f"sharded: inner chunks {INNER_CHUNKS}, shards {SHARDS} ({shard_mib:.0f} MiB). Peaks include the result;",
        "the bound asked of zarrlayered is 1.5 x result + two stored objects (392 MiB plain, 416 MiB sharded).",
        "",
        "| layout | library | selection | time (s) | peak RSS (MiB) | x result | traced peak (MiB) | x result |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        peak = "" if r.traced_peak is None else f"{r.traced_peak / MIB:.0f}"
        ratio = "" if r.traced_peak is None else f"{r.traced_peak / r.nbytes:.2f}"
        lines.append(
            f"| {r.layout} | {r.library} | {r.selection} | {r.elapsed:.2f} | {r.rss_peak / MIB:.0f} | "
            f"{r.rss_peak / r.nbytes:.2f} | {peak} | {ratio} |"
        )
    return lines


def io_table(paths: dict[str, str]) -> list[str]:
    """The Markdown lines of the table of requests and bytes of small reads of the sharded array."""
    inner_kib = 4 * INNER_CHUNKS[0] * INNER_CHUNKS[1] * INNER_CHUNKS[2] / 1024
    reads = json.dumps(IO_READS)
    ours = _run(_IO_CHILD, "zarrlayered", paths["sharded"], reads)
    theirs = _run(_IO_CHILD, "zarr-python", paths["sharded"], reads)
    lines = [
        f"Requests and bytes read from the sharded array (inner chunks of {inner_kib:.0f} KiB before compression,",
        "shards of 16 MiB; a shard index is 64 entries = 1028 bytes).",
        "",
        "| read | zarrlayered requests | zarrlayered bytes | zarrlayered ms | zarr-python requests "
        "| zarr-python bytes | zarr-python ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, _ in IO_READS:
        a, b = ours[name], theirs[name]
        if a["sum"] != b["sum"]:
            raise RuntimeError(f"the libraries read different data for {name!r}")
        lines.append(
            f"| {name} | {a['requests']} | {a['bytes']:,} | {a['elapsed'] * 1e3:.1f} | {b['requests']} | "
            f"{b['bytes']:,} | {b['elapsed'] * 1e3:.1f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the arrays (default: a temp dir)")
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument("--selections", nargs="+", default=list(SELECTIONS), choices=SELECTIONS)
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=LAYOUTS)
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--no-io", action="store_true", help="skip the table of requests and bytes")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="zl-memory-", dir=args.workdir))
    try:
        started = time.perf_counter()
        arrays = write_arrays(root)
        print(f"wrote the arrays in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results = measure_all(arrays, args.libraries, args.layouts, args.selections, traced=not args.no_tracemalloc)
        lines = memory_table(results)
        if not args.no_io:
            lines += ["", *io_table(arrays.paths)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
