"""Run code under zarr-python 2.18, which lives in its own virtualenv (it shares the import name ``zarr``).

``make test`` builds ``.venv-zarr2`` and passes its interpreter as ``ZARRLAYERED_TEST_ZARR2_PYTHON``; a plain
``pytest`` run without that variable skips the zarr-python 2 tests.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

__all__ = ["ZARR2_PYTHON_ENV", "run_zarr2", "zarr2_python"]

#: The environment variable that names the zarr-python 2.18 interpreter.
ZARR2_PYTHON_ENV = "ZARRLAYERED_TEST_ZARR2_PYTHON"

#: Seconds one snippet may run (interpreter start and ``import zarr`` take about half a second).
TIMEOUT = 60.0


def zarr2_python() -> str:
    """The path of the zarr-python 2.18 interpreter; skips the calling test when the variable is unset."""
    python = os.environ.get(ZARR2_PYTHON_ENV)
    if not python:
        pytest.skip(
            f"{ZARR2_PYTHON_ENV} is not set: zarr-python 2.18 lives in its own virtualenv; `make test` builds "
            f".venv-zarr2 and always sets it (or export {ZARR2_PYTHON_ENV}=$PWD/.venv-zarr2/bin/python after "
            "`make .venv-zarr2/.installed`)"
        )
    if not Path(python).is_file():
        raise FileNotFoundError(f"{ZARR2_PYTHON_ENV}={python!r} is not a file")
    return python


def run_zarr2(code: str, cwd: str | os.PathLike[str]) -> str:
    """Run ``code`` (dedented) with zarr-python 2.18's interpreter in ``cwd`` and return its stdout.

    Raises
    ------
    RuntimeError
        The snippet failed; the message holds its stderr.
    subprocess.TimeoutExpired
        The snippet ran longer than :data:`TIMEOUT` seconds.
    """
    python = zarr2_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.run(
        [python, "-c", textwrap.dedent(code)],
        cwd=os.fspath(cwd),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"zarr-python 2 snippet failed (exit {proc.returncode}):\n{proc.stderr}")
    return proc.stdout
