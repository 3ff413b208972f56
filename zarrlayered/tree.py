"""A readable text tree of a hierarchy, as ``Group.tree()`` prints it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["render_tree"]


def _label(name: str, node: Any) -> str:
    shape = getattr(node, "shape", None)
    if shape is None:
        return name
    return f"{name} {tuple(shape)} {node.dtype}"


def render_tree(root_name: str, members: Sequence[tuple[str, Any]]) -> str:
    """Draw ``members`` (``(relative path, node)`` pairs, parents before children) below ``root_name``.

    Example output::

        /
        ├── a
        │   └── x (10,) float64
        └── b (2, 2) int32
    """
    children: dict[str, list[tuple[str, Any]]] = {}
    for path, node in members:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        children.setdefault(parent, []).append((path, node))
    lines = [root_name]

    def walk(parent: str, indent: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda item: item[0])
        for i, (path, node) in enumerate(kids):
            last = i == len(kids) - 1
            lines.append(f"{indent}{'└── ' if last else '├── '}{_label(path.rsplit('/', 1)[-1], node)}")
            walk(path, indent + ("    " if last else "│   "))

    walk("", "")
    return "\n".join(lines)
