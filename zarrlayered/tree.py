"""A readable text tree of a hierarchy, as ``Group.tree()`` and ``zarrlayered.tree()`` show it.

The layout is zarr-python 3's: the group's name on the first line, then one line per member, groups by
name and arrays with their shape and dtype, children sorted by name. Names are bold on a terminal unless
``plain=True``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["TreeRepr", "render_tree"]

_HTML_PRE = (
    "<pre style=\"white-space:pre;overflow-x:auto;line-height:normal;"
    "font-family:Menlo,'DejaVu Sans Mono',consolas,'Courier New',monospace\">"
)


class TreeRepr(str):
    """The text of a tree; it is a ``str`` whose ``repr`` is the tree itself (so a REPL draws it).

    Parameters
    ----------
    text
        The tree as plain text (or with ANSI bold codes).
    html
        The same tree as HTML, for Jupyter.
    """

    _html: str

    def __new__(cls, text: str, html: str = "") -> TreeRepr:
        obj = super().__new__(cls, text)
        obj._html = html or escape(text)
        return obj

    def __repr__(self) -> str:
        return str.__str__(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": str.__str__(self), "text/html": f"{_HTML_PRE}{self._html}</pre>\n"}


def _label(name: str, node: Any) -> tuple[str, str]:
    """The text after the name (empty for groups): ``" (10,) float64"`` for arrays."""
    shape = getattr(node, "shape", None)
    if shape is None:
        return name, ""
    return name, f" {tuple(shape)} {node.dtype}"


def render_tree(
    root_name: str,
    members: Sequence[tuple[str, Any]],
    *,
    plain: bool = False,
    truncated_at: int | None = None,
) -> TreeRepr:
    """Draw ``members`` (``(relative path, node)`` pairs) below ``root_name``.

    Parameters
    ----------
    root_name
        The first line, the group's name (``"/"`` for a root group).
    members
        Every member to show, with its path relative to the group; arrays have ``shape`` and ``dtype``.
    plain
        No ANSI bold codes even on a terminal.
    truncated_at
        When not None, the members were cut at this many nodes; a note says so on the first line.

    Returns
    -------
    TreeRepr
        For example::

            /
            ├── a
            │   └── x (10,) float64
            └── b (2, 2) int32
    """
    bold = not plain and sys.stdout.isatty()
    on, off = ("\x1b[1m", "\x1b[0m") if bold else ("", "")
    children: dict[str, list[tuple[str, Any]]] = {}
    for path, node in members:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        children.setdefault(parent, []).append((path, node))
    text = [f"{on}{root_name}{off}"]
    html = [f"<b>{escape(root_name)}</b>"]
    # Iterative depth-first walk: deep hierarchies do not reach the recursion limit.
    stack: list[tuple[str, list[tuple[str, Any]]]] = [("", sorted(children.get("", []), key=lambda m: m[0]))]
    while stack:
        prefix, remaining = stack[-1]
        if not remaining:
            stack.pop()
            continue
        path, node = remaining.pop(0)
        last = not remaining
        connector = "└── " if last else "├── "
        name, suffix = _label(path.rsplit("/", 1)[-1], node)
        text.append(f"{prefix}{connector}{on}{name}{off}{suffix}")
        html.append(f"{prefix}{connector}<b>{escape(name)}</b>{escape(suffix)}")
        kids = children.get(path)
        if kids:
            stack.append((prefix + ("    " if last else "│   "), sorted(kids, key=lambda m: m[0])))
    note = ""
    if truncated_at is not None:
        note = f"Truncated at max_nodes={truncated_at}, some nodes and their children may be missing\n"
    return TreeRepr(note + "\n".join(text) + "\n", note + "\n".join(html) + "\n")
