"""Peak memory of reading 256 MiB from a plain and a sharded array: zarrlayered and zarr-python 3 side by side.

Run it as ``python benchmarks/memory.py`` (it is not part of ``make test``). It writes one 512 MiB
float32 array of random numbers twice into a temporary directory (plain chunks, and shards of inner
chunks; both with zarr-python 3's default zstd compressor), then reads the same 256 MiB subset with three
indexing styles, the subset zarr-python issues #3641 and #3164 take:

``basic``   ``a[2:6]``
``oindex``  ``a.oindex[[2, 3, 4, 5], :, :]``
``vindex``  ``a.vindex[np.ix_([2, 3, 4, 5], range(4096), range(4096))]`` (an open mesh of index arrays)

``zarrlayered`` reads through its synchronous path (local files answer synchronously); ``zarrlayered-async``
drives the engine's async path (the one remote stores take) on the IO loop. Each read runs in a fresh
Python process that only opens the array, builds the selection, reads it
and reports:

- the peak RSS of the read above the RSS just before it, from ``resource.getrusage`` (``ru_maxrss``);
- the peak of memory traced by ``tracemalloc`` during the read (numpy allocates its arrays through it),
  in a second fresh process, since tracing slows the read down and costs memory of its own;
- the wall-clock time of the read (from the untraced run).

Both peaks include the result itself; the ratio column divides by the result's size. The output is a
Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
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
MIB = 1 << 20

_CHILD = r"""
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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["rss_base"] = base_rss
    result["rss_peak_before"] = base_max
    result["rss_peak"] = peak
print(json.dumps(result))
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


def measure(library: str, path: str, selection: str, traced: bool) -> dict[str, Any]:
    """Run one read in a fresh interpreter and return what it reports."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, library, path, selection, "1" if traced else "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{library} {selection} on {path} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=None, help="where to write the arrays (default: a temp dir)")
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument("--selections", nargs="+", default=list(SELECTIONS), choices=SELECTIONS)
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=LAYOUTS)
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="zl-memory-", dir=args.workdir))
    try:
        started = time.perf_counter()
        paths = write_arrays(root)
        print(f"wrote the arrays in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        shard_mib = 4 * SHARDS[0] * SHARDS[1] * SHARDS[2] / MIB
        rows = []
        checksums: dict[tuple[str, str], float] = {}
        for layout in args.layouts:
            for library in args.libraries:
                for selection in args.selections:
                    untraced = measure(library, paths[layout], selection, traced=False)
                    traced = None if args.no_tracemalloc else measure(library, paths[layout], selection, True)
                    checksum = checksums.setdefault((layout, selection), untraced["checksum"])
                    if checksum != untraced["checksum"]:
                        raise RuntimeError(f"{library} read different data for {layout} {selection}")
                    rows.append((layout, library, selection, untraced, traced))
                    print(f"{layout} {library} {selection}: {untraced} {traced}", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"Reading 256 MiB of a {SHAPE} float32 array (random data, zstd). Plain chunks {PLAIN_CHUNKS};")
    print(f"sharded: inner chunks {INNER_CHUNKS}, shards {SHARDS} ({shard_mib:.0f} MiB). Peaks include the result.")
    print()
    print("| layout | library | selection | time (s) | peak RSS (MiB) | x result | numpy peak (MiB) | x result |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for layout, library, selection, untraced, traced in rows:
        nbytes = untraced["nbytes"]
        rss = max(0, untraced["rss_peak"] - untraced["rss_base"])
        numpy_peak = "" if traced is None else f"{traced['traced_peak'] / MIB:.0f}"
        numpy_ratio = "" if traced is None else f"{traced['traced_peak'] / nbytes:.2f}"
        print(
            f"| {layout} | {library} | {selection} | {untraced['elapsed']:.2f} | {rss / MIB:.0f} | "
            f"{rss / nbytes:.2f} | {numpy_peak} | {numpy_ratio} |"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
