"""Helpers for the front-end tests: run the same code with zarr-python 3 and with zarrlayered."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zarr

import zarrlayered

#: Both libraries, for tests that run the same code against each.
LIBRARIES = [pytest.param(zarr, id="zarr"), pytest.param(zarrlayered, id="zarrlayered")]


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """``("ok", result)`` or ``("raised", exception class name)`` -- for comparing two libraries' behaviour."""
    try:
        return "ok", fn()
    except Exception as exc:
        return "raised", type(exc).__name__


def kind(exc_name: str) -> str:
    """The zarr-python 3 exception name our exception stands for (the message-level meaning)."""
    return {
        "NodeNotFoundError": "KeyError",
        "GroupNotFoundError": "KeyError",
        "ArrayNotFoundError": "KeyError",
    }.get(exc_name, exc_name)


def files(root: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every file below ``root`` (relative path -> bytes); {} when ``root`` does not exist."""
    base = Path(root)
    if not base.exists():
        return {}
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}
