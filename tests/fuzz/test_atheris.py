"""Coverage-guided fuzzing with atheris (libFuzzer): ``atheris_target.py`` in a subprocess, a fixed seed and
a fixed number of runs, so CI runs the same 4,000 inputs every time (about 10 s).

libFuzzer stops at the first input whose outcome breaks the rule of ``fuzz_helpers`` and exits non-zero,
printing the Python traceback and saving the input as ``crash-*`` in the working directory.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_helpers import CASES

pytest.importorskip("atheris", reason="atheris installs on Linux x86-64 only")

TARGET = Path(__file__).with_name("atheris_target.py")
RUNS = 4000


def test_atheris_finds_no_undocumented_outcome(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(TARGET), f"-runs={RUNS}", "-seed=1", "-max_len=256", "-len_control=0"],
        cwd=tmp_path,  # a crash-* file lands here
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"atheris found an input:\n{result.stderr[-6000:]}"
    done = re.search(r"Done (\d+) runs", result.stderr)
    assert done is not None and int(done.group(1)) == RUNS, result.stderr[-2000:]
    assert not list(tmp_path.glob("crash-*"))
    CASES["atheris"] += RUNS
