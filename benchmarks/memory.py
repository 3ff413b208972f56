"""Peak memory (and I/O) of reads from a plain and a sharded array: zarrlayered and zarr-python 3 side by side.

Run it as ``python benchmarks/memory.py`` (it is not part of ``make test``; it takes a few minutes and
about 3 GB of memory at its peak, zarr-python's). It writes one 512 MiB float32 array of random numbers
twice into a temporary directory (plain chunks, and shards of inner chunks; both with zarr-python 3's
default zstd compressor), then reads the same 256 MiB subset in three indexing styles, the subsets of
zarr-python issues #3641 and #3164:

``basic``   ``a[2:6]``
``oindex``  ``a.oindex[[2, 3, 4, 5], :, :]``
``vindex``  ``a.vindex[np.ix_([2, 3, 4, 5], range(4096), range(4096))]`` (an open mesh of index arrays)

``zarrlayered`` reads through its synchronous path (local files answer synchronously);
``zarrlayered-async`` drives the engine's async path (the one remote stores take) on the IO loop. Each
read runs in a fresh Python process that only opens the array, builds the selection, reads and reports:

- the peak RSS of the read above the RSS just before it, from ``resource.getrusage`` (``ru_maxrss``);
- the peak of the memory traced by ``tracemalloc`` during the read (numpy arrays and Python bytes), in a
  second fresh process, since tracing slows the read down and costs memory of its own;
- the wall-clock time of the read (from the untraced run).

Both peaks include the result itself; the ratio columns divide by the result's size. A second table
counts the store requests and bytes of small reads of the sharded array (a counting store wraps each
library's local store). The output is Markdown on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SHAPE = (8, 4096, 4096)
DTYPE = "float32"
PLAIN_CHUNKS = (1, 1024, 1024)
INNER_CHUNKS = (1, 512, 512)
SHARDS = (1, 2048, 2048)
SELECTIONS = ("basic", "oindex", "vindex")
LIBRARIES = ("zarrlayered", "zarrlayered-async", "zarr-python")
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
import json, os, resource, sys, time, tracemalloc
import numpy as np

library, path, selection, traced = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
if library.startswith("zarrlayered"):
    import zarrlayered as lib
    from zarrlayered.core.sync import sync
else:
    import zarr as lib
arr = lib.open_array(path, mode="r")
if library == "zarrlayered-async":  # the engine's async path (what remote stores take), run on the IO loop
    engine = arr.async_array

    class _Kind:
        def __init__(self, kind):
            self.kind = kind

        def __getitem__(self, selection):
            return sync(engine.get_selection(selection, self.kind))

    class _Async:
        shape = arr.shape
        oindex = _Kind("orthogonal")
        vindex = _Kind("vindex")

        def __getitem__(self, selection):
            return sync(engine.getitem(selection))

    arr = _Async()


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


planes = [2, 3, 4, 5]
if selection == "basic":
    read = lambda: arr[2:6]
elif selection == "oindex":
    read = lambda: arr.oindex[planes, :, :]
else:
    mesh = np.ix_(planes, np.arange(arr.shape[1]), np.arange(arr.shape[2]))
    read = lambda: arr.vindex[mesh]
base_rss = rss()
base_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
if traced:
    tracemalloc.start()
started = time.perf_counter()
out = read()
elapsed = time.perf_counter() - started
result = {"elapsed": elapsed, "nbytes": int(out.nbytes), "checksum": float(out[:, ::97, ::89].sum(dtype="f8"))}
if traced:
    result["traced_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
else:
    result["rss_base"] = base_rss
    result["rss_peak_before"] = base_max
    result["rss_peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
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
import sys
import numpy as np
import zarrlayered

data = np.random.default_rng(0).standard_normal({SHAPE}, dtype=np.float32)
zarrlayered.create_array(sys.argv[1], shape={SHAPE}, chunks={PLAIN_CHUNKS}, dtype="{DTYPE}")[...] = data
sharded = zarrlayered.create_array(sys.argv[2], shape={SHAPE}, chunks={INNER_CHUNKS}, shards={SHARDS}, dtype="{DTYPE}")
sharded[...] = data
"""


def write_arrays(root: Path) -> dict[str, str]:
    """Write the plain and the sharded array (with zarrlayered, in a subprocess) and return their paths.

    A child inherits its parent's peak RSS on Linux, so this process never holds the data itself.
    """
    paths = {"plain": str(root / "plain.zarr"), "sharded": str(root / "sharded.zarr")}
    subprocess.run([sys.executable, "-c", _WRITER, paths["plain"], paths["sharded"]], check=True)
    return paths


def _run(*argv: str) -> Any:
    proc = subprocess.run([sys.executable, "-c", *argv], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[1:]} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(library: str, path: str, selection: str, traced: bool) -> dict[str, Any]:
    """Run one read in a fresh interpreter and return what it reports."""
    return dict(_run(_MEMORY_CHILD, library, path, selection, "1" if traced else "0"))


def memory_table(args: argparse.Namespace, paths: dict[str, str]) -> list[str]:
    """The Markdown lines of the memory table."""
    shard_mib = 4 * SHARDS[0] * SHARDS[1] * SHARDS[2] / MIB
    lines = [
        f"Reading 256 MiB of a {SHAPE} float32 array (random data, zstd). Plain chunks {PLAIN_CHUNKS};",
        f"sharded: inner chunks {INNER_CHUNKS}, shards {SHARDS} ({shard_mib:.0f} MiB). Peaks include the result;",
        "the bound for sharded reads is 1.5 x result + one shard = 400 MiB.",
        "",
        "| layout | library | selection | time (s) | peak RSS (MiB) | x result | traced peak (MiB) | x result |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    checksums: dict[tuple[str, str], float] = {}
    for layout in args.layouts:
        for library in args.libraries:
            for selection in args.selections:
                untraced = measure(library, paths[layout], selection, traced=False)
                traced = None if args.no_tracemalloc else measure(library, paths[layout], selection, True)
                print(f"{layout} {library} {selection}: {untraced} {traced}", file=sys.stderr)
                if checksums.setdefault((layout, selection), untraced["checksum"]) != untraced["checksum"]:
                    raise RuntimeError(f"{library} read different data for {layout} {selection}")
                nbytes = untraced["nbytes"]
                rss = max(0, untraced["rss_peak"] - untraced["rss_base"])
                peak = "" if traced is None else f"{traced['traced_peak'] / MIB:.0f}"
                ratio = "" if traced is None else f"{traced['traced_peak'] / nbytes:.2f}"
                lines.append(
                    f"| {layout} | {library} | {selection} | {untraced['elapsed']:.2f} | {rss / MIB:.0f} | "
                    f"{rss / nbytes:.2f} | {peak} | {ratio} |"
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
        paths = write_arrays(root)
        print(f"wrote the arrays in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        lines = memory_table(args, paths)
        if not args.no_io:
            lines += ["", *io_table(paths)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
