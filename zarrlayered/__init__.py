"""zarrlayered: Zarr V2 and V3 for Python, one async engine under three front ends."""

from __future__ import annotations

import logging

from zarrlayered.core.config import config
from zarrlayered.core.sync import sync

__version__ = "0.1.0"

__all__ = ["__version__", "config", "set_log_level", "sync"]

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


def set_log_level(level: int | str) -> None:
    """Set the level of every zarrlayered logger (``"DEBUG"``, ``logging.INFO``, ...).

    A stderr handler is attached to the ``zarrlayered`` logger the first time, so the records show.
    """
    root = logging.getLogger("zarrlayered")
    if isinstance(level, str):
        parsed = logging.getLevelName(level.upper())
        if not isinstance(parsed, int):
            raise ValueError(f"unknown log level {level!r}")
        level = parsed
    root.setLevel(level)
    for name in LOGGER_NAMES:
        logging.getLogger(name).setLevel(level)
    if not any(getattr(h, "_zarrlayered", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler._zarrlayered = True  # type: ignore[attr-defined]
        root.addHandler(handler)
