"""Real notebooks executed in a real Jupyter kernel (ipykernel, driven by nbclient).

One notebook per story of the notebook experience (tests/notebooks/*.ipynb) plus the migration guide's
``migration_guide/jupyter.ipynb``. Their cells assert, so a failing assertion fails the cell and the test.
The kernel is this interpreter (``sys.executable``, the project's virtual environment) through a
kernelspec written to a temporary directory, so the test does not depend on any installed kernelspec.
Each notebook runs in a fresh kernel, with a temporary working directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NOTEBOOKS = {path.stem: path for path in sorted(HERE.glob("*.ipynb"))}
NOTEBOOKS["migration_guide_jupyter"] = REPO / "migration_guide" / "jupyter.ipynb"
#: Seconds one cell may take before the test fails (the whole set takes a few seconds per notebook).
CELL_TIMEOUT = 60


@pytest.fixture(scope="module")
def kernel_dirs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A kernelspec named python3 that runs this interpreter with this checkout importable."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    python_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "zarrlayered tests",
        "language": "python",
        "interrupt_mode": "signal",
        "env": {"PYTHONPATH": python_path, "IPYTHONDIR": str(root / "ipython")},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return [str(root / "kernels")]


def _client(nb: Any, kernel_dirs: list[str], cwd: Path) -> tuple[NotebookClient, AsyncKernelManager]:
    """A client for ``nb`` with a kernel manager of our kernelspec. nbclient leaves a kernel manager it was
    given running: every use passes ``cleanup_kc=True`` so the kernel is shut down at the end."""
    manager = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs))
    client = NotebookClient(
        nb, km=manager, kernel_name="python3", timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(cwd)}}
    )
    return client, manager


def _inject_parameters(nb: Any, values: dict[str, Any]) -> None:
    """Replace the cell tagged ``parameters`` by assignments of ``values`` (as papermill does)."""
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
            return
    raise AssertionError("the notebook has no cell tagged 'parameters'")


def _code_cells_ran(nb: Any) -> None:
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code cells tests nothing"
    assert all(cell.get("execution_count") for cell in code), "a code cell did not run"


def run_notebook(name: str, kernel_dirs: list[str], cwd: Path, **parameters: Any) -> Any:
    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    if parameters:
        _inject_parameters(nb, parameters)
    client, manager = _client(nb, kernel_dirs, cwd)
    try:
        client.execute(cleanup_kc=True)
    except CellExecutionError as exc:
        pytest.fail(f"{NOTEBOOKS[name].name}: a cell failed\n{exc}")
    assert not manager.has_kernel, "the kernel was left running"
    _code_cells_ran(nb)
    return nb


PLAIN = ["running_loop", "reentrancy", "fork", "migration_guide_jupyter"]


def test_every_notebook_is_run() -> None:
    assert sorted(NOTEBOOKS) == sorted([*PLAIN, "nest_mode", "interrupt"])
    assert all(path.exists() for path in NOTEBOOKS.values())


@pytest.mark.parametrize("name", PLAIN)
def test_notebook(name: str, kernel_dirs: list[str], tmp_path: Path) -> None:
    run_notebook(name, kernel_dirs, tmp_path)


def test_nest_mode_notebook(kernel_dirs: list[str], tmp_path: Path, s3_server: str) -> None:
    run_notebook("nest_mode", kernel_dirs, tmp_path, S3_ENDPOINT=s3_server)


@pytest.fixture
def interrupter() -> Iterator[list[threading.Thread]]:
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join(CELL_TIMEOUT)


def test_interrupt_notebook(kernel_dirs: list[str], tmp_path: Path, interrupter: list[threading.Thread]) -> None:
    """The cell tagged ``interrupt`` starts a read that never finishes; once the notebook's store has
    written its ``read-started`` file, the kernel is interrupted as the ■ button does (SIGINT through the
    kernel manager). The cell catches the KeyboardInterrupt and asserts; the next cells check the work was
    cancelled and the library still works."""
    nb = nbformat.read(NOTEBOOKS["interrupt"], as_version=4)
    client, manager = _client(nb, kernel_dirs, tmp_path)
    marker = tmp_path / "read-started"
    sent: list[bool] = []

    def interrupt_when_started() -> None:
        deadline = time.monotonic() + CELL_TIMEOUT
        while not marker.exists():
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        asyncio.run(manager.interrupt_kernel())
        sent.append(True)

    with client.setup_kernel(cleanup_kc=True):
        for index, cell in enumerate(nb.cells):
            if "interrupt" in cell.metadata.get("tags", []):
                watcher = threading.Thread(target=interrupt_when_started, daemon=True)
                interrupter.append(watcher)
                watcher.start()
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                pytest.fail(f"interrupt.ipynb: cell {index} failed\n{exc}")
    assert not manager.has_kernel, "the kernel was left running"
    assert sent == [True]
    _code_cells_ran(nb)
