"""Progress bars of long operations: on with ``progress=True``, off with False, automatic with None.

Automatic means a bar when standard error is a terminal (a real pseudo-terminal here) or the code runs in a
Jupyter kernel (a real kernel here); pytest's captured stderr is neither, so None writes nothing.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pytest

import zarrlayered
from zarrlayered.cli import main
from zarrlayered.core.migrate import migrate_to_v3
from zarrlayered.core.progress import NullProgress, in_jupyter_kernel, progress_bar, progress_enabled
from zarrlayered.stores import LocalStore, MemoryStore


@pytest.fixture
def terminal() -> Iterator[IO[str]]:
    """The writing end of a real pseudo-terminal, as a text stream."""
    leader, follower = os.openpty()
    stream = os.fdopen(follower, "w")
    try:
        yield stream
    finally:
        stream.close()
        os.close(leader)


def small_hierarchy(store: object) -> zarrlayered.Group:
    """A group with two 800-byte arrays, one of them in a subgroup."""
    root = zarrlayered.open_group(store, mode="w")
    root.create_array("a", shape=(100,), chunks=(10,), dtype="f8")[:] = np.arange(100)
    root.create_group("sub").create_array("b", shape=(10, 10), chunks=(5, 5), dtype="i8")[:] = 7
    return root


# -- the helper ------------------------------------------------------------------------------------------
def test_true_false_and_auto(terminal: IO[str]) -> None:
    assert progress_enabled(True) and not progress_enabled(False)
    assert not progress_enabled(None, io.StringIO())  # not a terminal
    assert progress_enabled(None, terminal)  # a real pseudo-terminal
    assert not in_jupyter_kernel()  # pytest is no kernel (even with ipykernel importable)
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        progress_enabled("yes")  # type: ignore[arg-type]


def test_a_bar_draws_only_when_asked() -> None:
    stream = io.StringIO()
    with progress_bar(4, "work", True, unit="key", file=stream) as bar:
        for _ in range(4):
            bar.update(1)
    assert "work: 100%" in stream.getvalue() and "4/4" in stream.getvalue()
    quiet = progress_bar(4, "work", None, file=io.StringIO())
    assert isinstance(quiet, NullProgress)
    with quiet:
        quiet.update(3)
    assert quiet.n == 3


def test_auto_draws_on_a_terminal(terminal: IO[str]) -> None:
    bar = progress_bar(10, "copy", None, file=terminal)
    assert not isinstance(bar, NullProgress)
    bar.update(10)
    bar.close()


# -- the operations --------------------------------------------------------------------------------------
def test_copy_store_bar_counts_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = MemoryStore()
    small_hierarchy(source)
    keys = len(source.store_dict)
    zarrlayered.copy_store(source, LocalStore(tmp_path / "a"), progress=True)
    err = capsys.readouterr().err
    assert "copy: 100%" in err and f"{keys}/{keys}" in err and "key" in err
    zarrlayered.copy_store(source, LocalStore(tmp_path / "b"))  # None, and pytest's stderr is no terminal
    zarrlayered.copy_store(source, LocalStore(tmp_path / "c"), progress=False)
    zarrlayered.copy_store(source, LocalStore(tmp_path / "d"), progress=True, dry_run=True)  # nothing to show
    assert capsys.readouterr().err == ""
    assert sorted(LocalStore(tmp_path / "c").list_prefix_sync("")) == sorted(source.store_dict)


@pytest.mark.parametrize("create_kws", [{}, {"chunks": (20,)}], ids=["stored-chunks", "re-encoded"])
def test_copy_bar_counts_array_bytes(create_kws: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    root = small_hierarchy(MemoryStore())
    dest = zarrlayered.open_group(MemoryStore(), mode="w")
    assert zarrlayered.copy(root["a"], dest, progress=True, **create_kws) == (1, 0, 800)
    err = capsys.readouterr().err
    assert "copy: 100%" in err and "800/800" in err
    np.testing.assert_array_equal(dest["a"][:], np.arange(100))


def test_copy_of_a_group_and_copy_all(capsys: pytest.CaptureFixture[str]) -> None:
    root = small_hierarchy(MemoryStore())
    dest = zarrlayered.open_group(MemoryStore(), mode="w")
    zarrlayered.copy(root, dest, name="copied", progress=True)
    assert "1.60k/1.60k" in capsys.readouterr().err  # both arrays: 1600 bytes
    zarrlayered.copy(root, dest, name="shallow", shallow=True, progress=True)
    assert "800/800" in capsys.readouterr().err  # the top-level array only
    zarrlayered.copy_all(root, zarrlayered.open_group(MemoryStore(), mode="w"), progress=True)
    assert "1.60k/1.60k" in capsys.readouterr().err
    zarrlayered.copy(root, dest, name="quiet")
    zarrlayered.copy(root, dest, name="dry", dry_run=True, progress=True)
    assert capsys.readouterr().err == ""
    np.testing.assert_array_equal(dest["copied/sub/b"][:], np.full((10, 10), 7))


def v2_tree(path: Path) -> Path:
    root = zarrlayered.open_group(str(path), mode="w", zarr_format=2)
    for name in ("x", "y", "z"):
        root.create_array(name, shape=(4,), chunks=(2,), dtype="i4")[:] = [1, 2, 3, 4]
    return path


def test_migrate_bar_counts_nodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore(v2_tree(tmp_path / "t.zarr"))
    plan = migrate_to_v3(store, progress=True)
    err = capsys.readouterr().err
    assert "read V2 metadata: 100%" in err and "migrate: 100%" in err and "4/4" in err  # the root and 3 arrays
    assert len(plan.migratable) == 4
    migrate_to_v3(LocalStore(v2_tree(tmp_path / "u.zarr")))
    assert capsys.readouterr().err == ""
    assert json.loads((tmp_path / "u.zarr" / "x" / "zarr.json").read_bytes())["zarr_format"] == 3


def test_cli_migrate_and_copy_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", str(v2_tree(tmp_path / "a.zarr")), "--progress"]) == 0
    assert "migrate: 100%" in capsys.readouterr().err
    assert main(["migrate", str(v2_tree(tmp_path / "b.zarr"))]) == 0
    assert main(["migrate", str(v2_tree(tmp_path / "c.zarr")), "--no-progress"]) == 0
    assert main(["copy", str(tmp_path / "a.zarr"), str(tmp_path / "d.zarr")]) == 0
    assert capsys.readouterr().err == ""
    assert main(["copy", str(tmp_path / "a.zarr"), str(tmp_path / "e.zarr"), "--progress"]) == 0
    assert "copy: 100%" in capsys.readouterr().err
    np.testing.assert_array_equal(zarrlayered.open_array(str(tmp_path / "e.zarr" / "y"))[:], [1, 2, 3, 4])


def test_auto_draws_in_a_jupyter_kernel(tmp_path: Path) -> None:
    """A real IPython kernel (the project's Python): None shows the bar there, on the kernel's stderr."""
    manager = pytest.importorskip("jupyter_client.manager")
    kernel, client = manager.start_new_kernel(kernel_name="python3")
    streams: dict[str, str] = {"stdout": "", "stderr": ""}

    def collect(message: dict[str, object]) -> None:
        if message["msg_type"] == "stream":
            content = message["content"]
            assert isinstance(content, dict)
            streams[content["name"]] += content["text"]

    code = (
        "import zarrlayered\n"
        "from zarrlayered.core.progress import in_jupyter_kernel, progress_enabled\n"
        "from zarrlayered.stores import LocalStore, MemoryStore\n"
        "source = MemoryStore()\n"
        "zarrlayered.create_array(source, shape=(10,), chunks=(5,), dtype='i1')[:] = 1\n"
        f"zarrlayered.copy_store(source, LocalStore({str(tmp_path / 'k')!r}))\n"
        "print(in_jupyter_kernel(), progress_enabled(None))\n"
    )
    try:
        reply = client.execute_interactive(code, output_hook=collect, timeout=60)
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", streams
    assert streams["stdout"].strip() == "True True"
    assert "copy: 100%" in streams["stderr"] and "3/3" in streams["stderr"]
