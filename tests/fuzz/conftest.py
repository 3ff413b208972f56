"""Prints how many fuzz cases the session ran (the CI budget is >= 10,000 in under two minutes)."""

from __future__ import annotations

import pytest
from fuzz_helpers import CASES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line: the fuzz cases run, per kind and in total."""
    if CASES:
        parts = ", ".join(f"{kind}: {n}" for kind, n in sorted(CASES.items()))
        terminalreporter.write_line(f"fuzz cases run: {sum(CASES.values())} ({parts})")
