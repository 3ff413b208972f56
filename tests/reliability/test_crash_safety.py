"""Crash safety: a writer killed with SIGKILL at a random moment leaves a readable store.

LocalStore writes every value to a temporary file and renames it over the key's file (``os.replace``),
so a reader, or a process opening the store after a crash, sees each metadata document and each chunk
either as it was or as it was meant to be, never half of it. The test proves it the hard way: a writer
(``crash_workers.write_forever``) rewrites chunks, shards, attributes, shapes (resize) and groups of one
store, version after version, and is killed with SIGKILL after a random (seeded) delay, 10 times per
store, in 5 stores (Zarr V3 and V2): 50 kills. After each kill every metadata document must parse as JSON
and every chunk must hold one whole version, between the last version the writer finished and the one
it had begun (see ``crash_workers.check_local``). The next writer then carries on in the same store.

What a crash can leave behind: temporary files (``.zarrlayered-tmp-*``) that no listing shows and no
reader opens; chunks cut off by a resize that the crash interrupted (beyond the array's shape, so never
read, and overwritten when the array grows again); for a group, the members created before the crash.

ZipStore is different, and the tests below say so honestly: a zip archive cannot be updated in place,
so a writable ZipStore writes into a temporary copy and commits it at ``close()`` with one atomic
rename. A crash before ``close()`` therefore loses every write made since the store was opened, and never
anything committed before: the archive still opens and holds exactly the earlier committed content.
A crash *during* the commit leaves the old archive or the new one, whole.
"""

from __future__ import annotations

import random
import time
import zipfile
from collections.abc import Callable
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

import crash_workers as cw
import numpy as np
import pytest
import zarr

import zarrlayered
from zarrlayered.stores import ZipStore

#: Kills per store, and stores (their Zarr formats): 5 x 10 = 50 kills.
KILLS_PER_STORE = 10
FORMATS = (3, 2, 3, 2, 3)
SEED = 20261123


def _run_and_kill(
    ctx: ForkServerContext, target: Callable[..., None], args: tuple[Any, ...], counter: Any, ready_at: int,
    delay: float,
) -> None:
    """Start ``target(*args)``, wait until the shared ``counter`` reaches ``ready_at``, wait ``delay``
    seconds, then SIGKILL it."""
    process = ctx.Process(target=target, args=args, daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 30
        while counter.value < ready_at:
            assert process.is_alive(), f"the writer died on its own (exit code {process.exitcode})"
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.002)
        time.sleep(delay)
        assert process.is_alive(), f"the writer died on its own (exit code {process.exitcode})"
    finally:
        process.kill()
        process.join(10)
    assert process.exitcode == -9


@pytest.mark.timeout(120)
def test_sigkill_at_random_points_leaves_old_or_new_versions(ctx: ForkServerContext, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    kills = versions_written = torn = 0
    leftovers = 0
    for index, zarr_format in enumerate(FORMATS):
        root = str(tmp_path / f"store{index}.zarr")
        cw.create(root, zarr_format)
        done_global = started_global = 0
        completed = {0}
        for _ in range(KILLS_PER_STORE):
            started, done = ctx.Value("q", 0, lock=False), ctx.Value("q", -1, lock=False)
            first = started_global + 1
            delay = rng.uniform(0.0, 0.25)
            _run_and_kill(ctx, cw.write_forever, (root, zarr_format, first, started, done), started, first, delay)
            kills += 1
            started_global = started.value
            if done.value >= first:
                done_global = done.value
                versions_written += done.value - first + 1
                completed |= set(range(first, done.value + 1))
            counts = cw.check_local(root, zarr_format, done_global, started_global, completed)
            leftovers += counts["temp_files"]
            torn += started_global != done_global
        # zarr-python reads what the last crash left just as this package does
        ours = zarrlayered.open_array(root, path="chunked", mode="r")[:]
        np.testing.assert_array_equal(zarr.open_array(root, path="chunked", mode="r")[:], ours)
        # the store stays usable: a new writer finishes a version and everything is that version
        group = zarrlayered.open_group(root, mode="r+", use_consolidated=False)
        cw.write_version(group, started_global + 1, zarr_format)
        cw.check_local(root, zarr_format, started_global + 1, started_global + 1, completed | {started_global + 1})
    assert kills == 50
    # The random delays must have caught writers both between and in the middle of versions.
    assert versions_written > 0 and torn > 0, (versions_written, torn)


# -- ZipStore --------------------------------------------------------------------------------------------------
def _create_zip(path: str) -> None:
    with ZipStore(path, mode="w") as store:
        group = zarrlayered.open_group(store, mode="w")
        group.create_array("chunked", shape=(cw.CHUNK * cw.NCHUNKS,), chunks=(cw.CHUNK,), dtype="<i4",
                           fill_value=-1, data=cw.version_data(1, cw.NCHUNKS, cw.CHUNK), attributes={"version": 1})


def _zip_version(path: str) -> int:
    """The version the archive holds (asserting it is whole and consistent)."""
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every member's CRC matches: nothing half-written
    with ZipStore(path, mode="r") as store:
        arr = zarrlayered.open_array(store, path="chunked", mode="r")
        version = int(arr.attrs["version"])
        np.testing.assert_array_equal(arr[:], cw.version_data(version, cw.NCHUNKS, cw.CHUNK))
    return version


@pytest.mark.timeout(60)
def test_zip_killed_before_close_keeps_the_committed_content(ctx: ForkServerContext, tmp_path: Path) -> None:
    """The documented trade-off: a crash before ``close()`` loses the uncommitted writes, nothing else."""
    path = str(tmp_path / "data.zip")
    _create_zip(path)
    before = Path(path).read_bytes()
    written = ctx.Value("q", 0, lock=False)
    _run_and_kill(ctx, cw.zip_write_then_wait, (path, 2, written), written, 2, 0.05)
    assert Path(path).read_bytes() == before  # the archive itself was never touched
    assert _zip_version(path) == 1
    with ZipStore(path, mode="r") as store:
        assert "uncommitted" not in zarrlayered.open_group(store, mode="r")
    # the uncommitted copy is left as a temporary file beside the archive; the next writer carries on
    with ZipStore(path, mode="a") as store:
        zarrlayered.open_array(store, path="chunked", mode="r+").attrs["version"] = 1
    assert _zip_version(path) == 1


@pytest.mark.timeout(60)
def test_zip_killed_at_random_points_while_committing(ctx: ForkServerContext, tmp_path: Path) -> None:
    """Kills at random moments of an open-write-close loop: the archive is always the last or next commit."""
    rng = random.Random(SEED + 1)
    path = str(tmp_path / "loop.zip")
    _create_zip(path)
    done_global = started_global = 1
    committed_while_running = 0
    for _ in range(8):
        started, done = ctx.Value("q", 0, lock=False), ctx.Value("q", 0, lock=False)
        first = started_global + 1
        _run_and_kill(ctx, cw.zip_commit_forever, (path, first, started, done), started, first, rng.uniform(0.0, 0.3))
        started_global = started.value
        if done.value >= first:
            committed_while_running += done.value - first + 1
            done_global = done.value
        assert done_global <= _zip_version(path) <= started_global
    assert committed_while_running > 0
