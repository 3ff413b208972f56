"""zarrlayered: Zarr V2 and V3 for Python, one async engine under three front ends."""

from __future__ import annotations

import logging
import sys

from zarrlayered import errors, storage
from zarrlayered.api import (
    array,
    consolidate_metadata,
    copy,
    copy_all,
    copy_store,
    create,
    create_array,
    create_group,
    create_hierarchy,
    empty,
    empty_like,
    from_array,
    full,
    full_like,
    group,
    load,
    ones,
    ones_like,
    open,
    open_array,
    open_consolidated,
    open_group,
    open_like,
    save,
    save_array,
    save_group,
    save_many,
    tree,
    zeros,
    zeros_like,
)
from zarrlayered.array import Array
from zarrlayered.compat.dask import from_dask, to_dask
from zarrlayered.core.array import AsyncArray
from zarrlayered.core.config import config
from zarrlayered.core.group import AsyncGroup
from zarrlayered.core.sync import sync
from zarrlayered.group import Group

__version__ = "0.1.0"

__all__ = [
    "Array",
    "AsyncArray",
    "AsyncGroup",
    "Group",
    "__version__",
    "array",
    "config",
    "consolidate_metadata",
    "copy",
    "copy_all",
    "copy_store",
    "create",
    "create_array",
    "create_group",
    "create_hierarchy",
    "empty",
    "empty_like",
    "errors",
    "from_array",
    "from_dask",
    "full",
    "full_like",
    "group",
    "load",
    "ones",
    "ones_like",
    "open",
    "open_array",
    "open_consolidated",
    "open_group",
    "open_like",
    "save",
    "save_array",
    "save_group",
    "save_many",
    "set_log_level",
    "storage",
    "sync",
    "to_dask",
    "tree",
    "zeros",
    "zeros_like",
]

#: The loggers of the layers, one per layer.
LOGGER_NAMES = (
    "zarrlayered.array",
    "zarrlayered.group",
    "zarrlayered.store",
    "zarrlayered.codec",
    "zarrlayered.sync",
)

for _name in LOGGER_NAMES:
    logging.getLogger(_name).addHandler(logging.NullHandler())


class _StderrHandler(logging.Handler):
    """Writes records to whatever ``sys.stderr`` is at the time (it may be replaced, as in pytest)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def set_log_level(level: int | str) -> None:
    """Set the level of every zarrlayered logger (``"DEBUG"``, ``logging.INFO``, ...).

    Parameters
    ----------
    level
        A level name (any case) or number.

    Raises
    ------
    ValueError
        ``level`` names no logging level.

    Notes
    -----
    Unless the root logger already has handlers (an application that configured logging), a stderr
    handler is attached to the ``zarrlayered`` logger the first time, so the records show.
    """
    if isinstance(level, str):
        parsed = logging.getLevelName(level.strip().upper())
        if not isinstance(parsed, int):
            raise ValueError(f"unknown log level {level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        level = parsed
    elif isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise ValueError(f"log level must be a level name or a non-negative int, got {level!r}")
    root = logging.getLogger("zarrlayered")
    root.setLevel(level)
    for name in LOGGER_NAMES:
        logging.getLogger(name).setLevel(level)
    if not logging.getLogger().handlers and not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.addHandler(handler)
