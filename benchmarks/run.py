"""``make bench``: zarrlayered, zarr-python 3, tensorstore and h5py side by side, against the targets of issue 8.

Run it as ``python benchmarks/run.py`` (``make bench``); ``--help`` lists the options. For every workload of
:mod:`workloads` it writes the workload's data into a new array with each library (a fresh array every
repetition, created outside the timing; on disk, ``os.sync()`` first, so that no write pays for the dirty
pages of the one before), then reads it back, and times both. Within a repetition the
libraries take turns, in an order that rotates from one repetition to the next, so that noise on the
machine spreads over all of them; the time kept is the best repetition. Every write is checked by
reading its last chunk back, the array kept for the reads is checked whole, and every timed read is
compared with the data, so no library can be timed doing nothing. Then the peak memory of 256 MiB reads
is measured by :mod:`memory` (each read in a fresh process).

The Markdown table goes to stdout and, for a full run, to ``benchmarks/results.md``; progress goes to
stderr. Timings never run in ``make test``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib.metadata
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import memory
import numpy as np
from bounds import describe, lower_bound
from workloads import LIBRARIES, WORKLOADS, Library, Selection, Target, Workload

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"
MIB = 1 << 20
#: Column titles of the libraries.
TITLES = {
    "zarrlayered": "zarrlayered",
    "zarr-python": "zarr-python 3",
    "tensorstore": "tensorstore",
    "h5py": "h5py",
    "plain-loop": "plain loop, 2 threads",
    "no-files": "no files, 2 threads",
}
MEMORY_LIBRARIES = {
    "zarrlayered": "zarrlayered",
    "zarrlayered-async": "zarrlayered, async path",
    "zarr-python": "zarr-python 3",
    "tensorstore": "tensorstore",
}


@dataclass(frozen=True)
class Repeats:
    """How many times an operation is timed: at least ``minimum``, then more while it has taken under ``budget``."""

    minimum: int = 7
    maximum: int = 20
    budget: float = 6.0  # seconds, the set-up and the checks of every library included

    def __iter__(self) -> Iterator[int]:
        started = time.perf_counter()
        repetition = 0
        while repetition < self.minimum or (repetition < self.maximum and time.perf_counter() - started < self.budget):
            yield repetition
            repetition += 1

    def describe(self) -> str:
        """In words, for the results."""
        if self.maximum <= self.minimum:
            return f"{self.minimum} repetitions"
        return (
            f"{self.minimum} to {self.maximum} repetitions (more than {self.minimum} while an operation has "
            f"taken under {self.budget:g} s)"
        )


class BenchmarkError(RuntimeError):
    """A library returned other data than was written: its timing would be meaningless."""


@dataclass(frozen=True)
class Row:
    """One line of the table: the best time per call of each library for one operation of a workload."""

    workload: Workload
    operation: str
    target: Target | None
    best: dict[str, float]
    #: The best time of the operation's lower bound (:mod:`bounds`), when it has one.
    bound: float | None = None

    def ratios(self) -> dict[str, float]:
        """Each library's time divided by zarrlayered's."""
        ours = self.best["zarrlayered"]
        return {name: seconds / ours for name, seconds in self.best.items()}


# -- timing ---------------------------------------------------------------------------------------------------------


def timed(function: Callable[[], Any], number: int = 1) -> tuple[float, Any]:
    """Call ``function`` ``number`` times with the garbage collector off (as ``timeit`` does).

    Returns the seconds per call and the last result.
    """
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        for _ in range(number):
            result = function()
        elapsed = time.perf_counter() - started
    finally:
        gc.enable()
    return elapsed / number, result


def rotated(libraries: Sequence[Library], repetition: int) -> list[Library]:
    """The libraries in the order of one repetition: each one goes first in turn."""
    k = repetition % len(libraries)
    return [*libraries[k:], *libraries[:k]]


def check(library: Library, what: str, got: Any, expected: np.ndarray) -> None:
    """Raise unless ``got`` is exactly ``expected`` (values, shape and dtype)."""
    got = np.asarray(got)
    if got.shape != expected.shape or got.dtype != expected.dtype or not np.array_equal(got, expected):
        raise BenchmarkError(
            f"{library.name} {what}: got {got.dtype} {got.shape}, expected {expected.dtype} {expected.shape}"
            + ("" if got.shape != expected.shape else f", {int((got != expected).sum())} elements differ")
        )


def _remove(path: Path | None) -> None:
    if path is None:
        return
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def run_workload(workload: Workload, libraries: Sequence[Library], repeats: Repeats, root: Path) -> list[Row]:
    """Time the write and the reads of one workload, libraries interleaved; return one row per operation."""
    spec = workload.spec
    data = workload.make_data()
    libs = [lib for lib in libraries if lib.supports(spec)]
    corner = zip(spec.shape, spec.chunks, strict=True)
    last_chunk = Selection("basic", tuple(slice(n - 1 - (n - 1) % c, n) for n, c in corner))
    times: dict[str, list[float]] = {lib.name: [] for lib in libs}
    kept: dict[str, tuple[Any, Path | None]] = {}
    try:
        for repetition in repeats:
            for lib in rotated(libs, repetition):
                if lib.name in kept:  # only the last array written is kept (for the reads)
                    previous, previous_path = kept.pop(lib.name)
                    lib.close(previous)
                    _remove(previous_path)
                path = root / f"{workload.key}-{lib.name}-{repetition}" if spec.on_disk else None
                array = lib.create(spec, path)
                if spec.on_disk:  # every write starts with no dirty pages left by the one before
                    os.sync()
                seconds, _ = timed(lib.writer(array, data))
                kept[lib.name] = (array, path)
                times[lib.name].append(seconds)
                check(lib, "write (last chunk read back)", lib.reader(array, last_chunk)(), last_chunk.expected(data))
        _report(workload, "write", times)
        rows = [Row(workload, "write", workload.write_target, {name: min(ts) for name, ts in times.items()})]
        for lib in libs:  # the arrays the reads use hold exactly the data (this is also the reads' warm-up)
            check(lib, "write (read back whole)", lib.reader(kept[lib.name][0], _full())(), data)
        for read in workload.reads:
            expected = read.selection.expected(data)
            readers = [lib for lib in libs if lib.supports(spec, read.selection)]
            times = {lib.name: [] for lib in readers}
            bound = lower_bound(workload, data) if read.selection.key is Ellipsis else None
            bound_times: list[float] = []
            for repetition in repeats:
                for lib in rotated(readers, repetition):
                    seconds, result = timed(lib.reader(kept[lib.name][0], read.selection), read.number)
                    times[lib.name].append(seconds)
                    check(lib, read.label, result, expected)
                if bound is not None:  # in the same repetitions, under the same noise
                    bound_times.append(timed(bound)[0])
            _report(workload, read.label, times)
            best = {name: min(ts) for name, ts in times.items()}
            rows.append(Row(workload, read.label, read.target, best, min(bound_times) if bound_times else None))
            if bound_times:
                print(f"{workload.key} {read.label}: lower bound {format_time(min(bound_times))}", file=sys.stderr)
    finally:
        for lib in libs:
            if lib.name in kept:
                array, path = kept.pop(lib.name)
                lib.close(array)
                _remove(path)
    return rows


def _full() -> Selection:
    return Selection("basic", Ellipsis)


def _report(workload: Workload, operation: str, times: dict[str, list[float]]) -> None:
    best = ", ".join(
        f"{name} {format_time(min(ts))} (median {format_time(float(np.median(ts)))})" for name, ts in times.items()
    )
    count = len(next(iter(times.values())))
    print(f"{workload.key} {operation}, best of {count}: {best}", file=sys.stderr)


# -- the tables -----------------------------------------------------------------------------------------------------


def format_time(seconds: float) -> str:
    """Seconds with a unit that keeps three significant digits or so."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale * 0.9995:  # what rounds to 1000 of a unit is 1 of the next
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def verdict(unmet: list[str]) -> str:
    """The "met" cell."""
    return "yes" if not unmet else "**no** (" + "; ".join(unmet) + ")"


def unreachable(row: Row) -> list[str]:
    """The goals of ``row`` that ask for less time than its lower bound (:mod:`bounds`): beyond any library."""
    if row.target is None or row.bound is None:
        return []
    return [
        f"{library} {goal:g}x asks for {format_time(row.best[library] / goal)}, less than "
        f"{describe(row.workload.spec)} ({format_time(row.bound)})"
        for library, goal in row.target.goals.items()
        if library in row.best and row.best[library] / goal < row.bound
    ]


def timing_table(rows: Sequence[Row], names: Sequence[str]) -> tuple[list[str], int, int]:
    """The Markdown lines of the timing table, the number of targets met and the number of targets."""
    header = ["workload", "operation", *(TITLES[name] for name in names), "target (time / zarrlayered's)", "met"]
    lines = ["| " + " | ".join(header) + " |", "| --- | --- |" + " ---: |" * len(names) + " --- | --- |"]
    met = total = 0
    for row in rows:
        ratios = row.ratios()
        cells = [row.workload.title, row.operation]
        for name in names:
            if name not in row.best:
                cells.append("—")
            elif name == "zarrlayered":
                cells.append(format_time(row.best[name]))
            else:
                cells.append(f"{format_time(row.best[name])} ({ratios[name]:.2f}x)")
        missing = [] if row.target is None else [name for name in row.target.goals if name not in ratios]
        if row.target is None:
            cells += ["", ""]
        elif missing:
            cells += [row.target.describe(), f"not measured ({', '.join(missing)} not run)"]
        else:
            unmet = row.target.unmet(ratios)
            total += 1
            met += not unmet
            beyond = unreachable(row) if unmet else []
            cells += [row.target.describe(), verdict(unmet) + "".join(f"; beyond the floor: {b}" for b in beyond)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines, met, total


def floor_section(rows: Sequence[Row]) -> list[str]:
    """The Markdown lines that set the 1 MiB rows against their lower bounds and the reference loops."""
    found = {(row.workload.key, row.operation): row for row in rows if "no-files" in row.best or row.bound}
    if not found:
        return []
    ms = format_time
    lines = [
        "## How close to the floor",
        "",
        "A *lower bound* of each full read of the 1 MiB workloads is timed in the same repetitions as the reads",
        "(benchmarks/bounds.py), on 2 threads (the machine's cores): uncompressed, one contiguous copy of the",
        "64 MiB into a fresh array (the new memory every reader must fill, with numpy's fastest copy and no",
        "file, system call or non-contiguous chunk); zstd, libzstd decoding the chunks alone (work no reader",
        "can skip). No reader can take less time; a target that asks for less is marked *beyond the floor*.",
        "",
        "Two reference columns run the same workloads with the least Python code there is, on 2 threads and",
        "with no metadata or checks. The *plain loop* reads each chunk file into a per-thread buffer",
        "(`readinto`; or `read` and numcodecs' `decode(..., out=)`) and copies it into its place in the output;",
        "it writes each chunk made contiguous (and encoded) to its file. *No files* does the same with the",
        "encoded chunks held in memory. They are references, not bounds: a 64^3 chunk is not contiguous in the",
        "output, and copying it there through a buffer that stays in the CPU's cache can be quicker than",
        "copying it straight from memory, as zarrlayered does when it reads files.",
        "",
    ]
    for key, title in (("mib-raw", "Uncompressed"), ("mib-zstd", "zstd level 1")):
        row = found.get((key, "read"))
        if row is None or row.target is None or "zarr-python" not in row.best:
            continue
        zp, ours = row.best["zarr-python"], row.best["zarrlayered"]
        goal = row.target.zarr_python
        nbytes = math.prod(row.workload.spec.shape) * np.dtype(row.workload.spec.dtype).itemsize
        text = f"- **{title} read**: zarr-python 3 reads the {nbytes / MIB:.0f} MiB in {ms(zp)}"
        if key == "mib-raw":
            text += f" ({nbytes / zp / 1e9:.1f} GB/s; issue 8 assumed 370 MB/s)"
        text += f"; the {goal:g}x target asks for {ms(zp / goal)}"
        if row.bound is not None:
            text += (
                f", {zp / goal / row.bound:.2f}x the lower bound ({describe(row.workload.spec)}: {ms(row.bound)})."
                f" zarrlayered takes {ms(ours)}, {ours / row.bound:.2f}x the bound and {zp / ours:.2f}x faster"
                " than zarr-python 3"
            )
        else:
            text += f". zarrlayered takes {ms(ours)}, {zp / ours:.2f}x faster than zarr-python 3"
        references = [f"{TITLES[name]} {ms(row.best[name])}" for name in ("plain-loop", "no-files") if name in row.best]
        text += f"; {', '.join(references)}." if references else "."
        lines.append(text)
    parts = []
    for key in ("mib-raw", "mib-zstd"):
        row = found.get((key, "write"))
        if row is None or "no-files" not in row.best:
            continue
        part = f"{row.workload.title.split(', ')[-1]}: zarrlayered {ms(row.best['zarrlayered'])}"
        for name in ("tensorstore", "plain-loop", "no-files"):
            if name in row.best:
                part += f", {TITLES[name]} {ms(row.best[name])}"
        parts.append(part)
    if parts:
        lines.append(
            "- **Writes** spend what the no-files column does not in the kernel (page-cache pages allocated and "
            "filled; zarrlayered's profile is mostly `os.write`): " + "; ".join(parts) + "."
        )
    return [*lines, ""]


def memory_section(results: Sequence[memory.MemoryResult]) -> tuple[list[str], int, int]:
    """The Markdown lines of the peak-memory table, the number of reads within the bound and the number checked."""
    names = [name for name in MEMORY_LIBRARIES if any(r.library == name for r in results)]
    header = ["array", "selection", *(MEMORY_LIBRARIES[name] for name in names), "bound", "met"]
    lines = [
        "| " + " | ".join(header) + " |",
        "| --- | --- |" + " ---: |" * len(names) + " ---: | --- |",
    ]
    met = total = 0
    for layout in memory.LAYOUTS:
        for selection in memory.SELECTIONS:
            found = {r.library: r for r in results if r.layout == layout and r.selection == selection}
            if not found:
                continue
            bound = next(iter(found.values())).bound
            cells = [layout, selection]
            for name in names:
                r = found.get(name)
                peak = "—" if r is None else f"{r.rss_peak / MIB:.0f} MiB ({r.rss_peak / r.nbytes:.2f}x)"
                cells.append(peak if r is None else f"{peak}, {r.elapsed:.2f} s")
            ours = [r for name, r in found.items() if name.startswith("zarrlayered")]
            unmet = [f"{MEMORY_LIBRARIES[r.library]} {r.rss_peak / MIB:.0f} MiB" for r in ours if r.rss_peak > r.bound]
            if ours:
                total += 1
                met += not unmet
            cells += [f"{bound / MIB:.0f} MiB", verdict(unmet) if ours else ""]
            lines.append("| " + " | ".join(cells) + " |")
    return lines, met, total


def machine() -> str:
    """One line on the machine and the versions measured."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    ram = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        ram = f", {kib / (1 << 20):.1f} GiB RAM"
    except (OSError, StopIteration):
        pass
    versions = []
    for package in ("zarrlayered", "zarr", "tensorstore", "h5py", "numcodecs", "numpy"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    try:
        commit = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "zarrlayered", "benchmarks/*.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        versions[0] += f" (commit {commit}{', with uncommitted changes' if changed else ''})"
    except (OSError, subprocess.CalledProcessError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{ram}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; " + ", ".join(versions)
    )


def document(
    rows: Sequence[Row],
    names: Sequence[str],
    memory_results: Sequence[memory.MemoryResult],
    repeats: Repeats,
    elapsed: float,
    load: tuple[float, float],
) -> tuple[str, int, int]:
    """The whole Markdown document of a run, the number of targets met and the number of targets."""
    met = total = 0
    body: list[str] = []
    if rows:
        table, met, total = timing_table(rows, names)
        body += [
            "## Time",
            "",
            f"Best of {repeats.describe()};",
            "the libraries take turns within each repetition. In parentheses: each library's time divided by",
            "zarrlayered's (above 1: zarrlayered is faster). A target names the ratio that issue 8 asks for",
            "(tensorstore >= 1x: zarrlayered at least as fast as tensorstore). —: the workload does not fit",
            "the library (h5py has no zstd filter without hdf5plugin, no sharding, and reads points only along",
            "one axis in increasing order; the plain loop and no files, references, run the workloads of 1 MiB",
            "chunks).",
            "",
            *table,
            "",
            *(f"- **{w.title}**: {w.description}" for w in {row.workload.key: row.workload for row in rows}.values()),
            "",
            *floor_section(rows),
        ]
    if memory_results:
        table, memory_met, memory_total = memory_section(memory_results)
        met, total = met + memory_met, total + memory_total
        body += [
            "## Peak memory",
            "",
            "Reading 256 MiB (`a[2:6]`, `a.oindex[[2, 3, 4, 5], :, :]`, and `a.vindex` of the same open mesh) of",
            f"a {memory.SHAPE} float32 array of random numbers with zstd: plain chunks {memory.PLAIN_CHUNKS}",
            f"(4 MiB), or shards {memory.SHARDS} (16 MiB) of inner chunks {memory.INNER_CHUNKS}. Each read runs",
            "in a fresh process; the peak is the high-water mark of its RSS above the RSS before the read,",
            "the result included (in parentheses, as a multiple of the result), then the time of the read.",
            "The bound (issue 8) is 1.5x the result plus two stored objects, for zarrlayered's sync path and",
            "its async path (the one remote stores take).",
            "",
            *table,
            "",
        ]
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        "# Benchmark results",
        "",
        f"`make bench` (benchmarks/{Path(__file__).name}), {now}, {elapsed / 60:.1f} minutes.",
        f"Machine: {machine()}.",
        f"Load average over one minute: {load[0]:.1f} at the start, {load[1]:.1f} at the end.",
        "",
        f"**Targets met: {met} of {total}.**",
        "",
    ]
    return "\n".join(head + body), met, total


# -- main -----------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    keys = [w.key for w in WORKLOADS]
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="least repetitions of each timing (the best is kept)")
    parser.add_argument("--max-repeat", type=int, default=20, help="most repetitions of each timing")
    parser.add_argument("--budget", type=float, default=6.0, help="seconds an operation may take before it stops")
    parser.add_argument(
        "--workloads", nargs="+", choices=[*keys, "memory"], default=[*keys, "memory"], help="what to run (all)"
    )
    parser.add_argument(
        "--libraries",
        nargs="+",
        choices=[lib.name for lib in LIBRARIES if lib.name != "zarrlayered"],
        default=[lib.name for lib in LIBRARIES if lib.name != "zarrlayered"],
        help="the libraries next to zarrlayered (default: all)",
    )
    parser.add_argument("--traced", action="store_true", help="also measure tracemalloc peaks in the memory runs")
    parser.add_argument(
        "--output", type=Path, default=None, help=f"write the table here (default: {RESULTS} after a full run)"
    )
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is not met")
    parser.add_argument("--workdir", type=Path, default=None, help="where to put the arrays (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    repeats = Repeats(args.repeat, max(args.repeat, args.max_repeat), args.budget)
    full_run = set(args.workloads) == {*keys, "memory"} and set(args.libraries) == {lib.name for lib in LIBRARIES} - {
        "zarrlayered"
    }
    output = args.output or (RESULTS if full_run else None)

    libraries = [lib for lib in LIBRARIES if lib.name == "zarrlayered" or lib.name in args.libraries]
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="zl-bench-", dir=args.workdir))
    rows: list[Row] = []
    memory_results: list[memory.MemoryResult] = []
    try:
        for workload in WORKLOADS:
            if workload.key in args.workloads:
                rows += run_workload(workload, libraries, repeats, root)
        if "memory" in args.workloads:
            arrays = memory.write_arrays(root)
            wanted = [name for name in memory.LIBRARIES if name.startswith("zarrlayered") or name in args.libraries]
            memory_results = memory.measure_all(arrays, wanted, traced=args.traced)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    names = [lib.name for lib in libraries]
    text, met, total = document(
        rows,
        names,
        memory_results,
        repeats,
        time.perf_counter() - started,
        (load_before, os.getloadavg()[0]),
    )
    print(text)
    if output is not None:
        output.write_text(text)
        print(f"wrote {output}", file=sys.stderr)
    return 1 if args.check and met < total else 0


if __name__ == "__main__":
    sys.exit(main())
