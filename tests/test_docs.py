"""Every ```python block of README.md and migration_guide/*.md runs, in order within its file,
in one fresh interpreter, in a temporary directory."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "migration_guide").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text(encoding="utf-8"))


def test_readme_has_python_blocks() -> None:
    assert python_blocks(ROOT / "README.md"), "README.md should show runnable examples"


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_doc_code_blocks_run(doc: Path, tmp_path: Path) -> None:
    blocks = python_blocks(doc)
    if not blocks:
        pytest.skip(f"{doc.name} has no python blocks")
    script = "\n\n".join(f"# --- block {i + 1} of {doc.name}\n{block}" for i, block in enumerate(blocks))
    (tmp_path / "doc_script.py").write_text(script, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "doc_script.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{doc.name} code failed:\n{result.stdout}\n{result.stderr}"
