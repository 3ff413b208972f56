"""Every ```python block of README.md and migration_guide/*.md runs: the blocks of one file in order, as one
script, in one fresh interpreter, in a temporary directory. "Before" snippets that need zarr-python 2 or
h5py are fenced as ```text and not run; the checks below keep them out of ```python blocks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "migration_guide"
DOCS = [ROOT / "README.md", *sorted(GUIDE.glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: Lines a plain interpreter cannot run or that need another library than the one documented.
FOREIGN = {
    "an IPython magic or shell escape": re.compile(r"^\s*[%!]"),
    "top-level await": re.compile(r"^await |^\w+ = await "),
    "import h5py (real h5py: fence the snippet as text)": re.compile(r"^\s*import h5py\b|^\s*from h5py\b"),
    "import zarr (zarr-python itself: fence the snippet as text)": re.compile(r"^\s*import zarr\s*(#.*)?$"),
}


def python_blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text(encoding="utf-8"))


def test_readme_has_python_blocks() -> None:
    assert python_blocks(ROOT / "README.md"), "README.md should show runnable examples"


def test_the_guide_has_its_pages() -> None:
    pages = {path.name for path in GUIDE.iterdir()}
    expected = {"README.md", "from_zarr2.md", "from_zarr3.md", "from_h5py.md", "jupyter.md", "jupyter.ipynb"}
    assert expected <= pages, f"missing: {sorted(expected - pages)}"
    index = (GUIDE / "README.md").read_text(encoding="utf-8")
    for name in sorted(expected - {"README.md"}):
        assert f"({name})" in index, f"migration_guide/README.md does not link {name}"
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name} links to a missing file: {target}"


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_python_blocks_run_in_a_plain_interpreter(doc: Path) -> None:
    for number, block in enumerate(python_blocks(doc), 1):
        for line in block.splitlines():
            for what, pattern in FOREIGN.items():
                assert not pattern.search(line), f"{doc.name} python block {number}: {what}: {line!r}"


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_doc_code_blocks_run(doc: Path, tmp_path: Path) -> None:
    blocks = python_blocks(doc)
    if not blocks:
        pytest.skip(f"{doc.name} has no python blocks")
    script = "\n\n".join(f"# --- block {i + 1} of {doc.name}\n{block}" for i, block in enumerate(blocks))
    (tmp_path / "doc_script.py").write_text(script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZARRLAYERED_")}  # the documented defaults
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    result = subprocess.run(
        [sys.executable, "doc_script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, f"{doc.name} code failed:\n{result.stdout}\n{result.stderr}"
