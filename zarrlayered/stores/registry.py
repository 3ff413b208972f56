"""Store schemes: which store class opens a URL.

A scheme (``myproto`` in ``myproto://...``) maps to a factory ``(url, mode, storage_options) -> Store``.
Factories come from :func:`register_store` at runtime and from the ``zarrlayered.stores`` entry-point
group (the entry point's name is the scheme, its value the factory). A URL whose scheme no one
registered goes to fsspec.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, TypeAlias

from zarrlayered.stores.abc import Store

__all__ = ["StoreFactory", "get_store_factory", "register_store"]

logger = logging.getLogger("zarrlayered.store")

StoreFactory: TypeAlias = Callable[[str, str | None, Mapping[str, Any] | None], Store]

_factories: dict[str, StoreFactory] = {}
_lock = threading.Lock()
_entry_points_loaded: set[str] = set()


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make URLs ``scheme://...`` open with ``factory(url, mode, storage_options)``."""
    if not isinstance(scheme, str) or not scheme.replace("-", "").replace("+", "").isalnum():
        raise ValueError(f"store scheme must be a simple name like 'myproto', got {scheme!r}")
    if not callable(factory):
        raise TypeError(f"store factory for {scheme!r} must be callable, got {factory!r}")
    with _lock:
        _factories[scheme.lower()] = factory


def get_store_factory(scheme: str) -> StoreFactory | None:
    """The factory registered for ``scheme`` (runtime first, then entry points), or None."""
    scheme = scheme.lower()
    with _lock:
        found = _factories.get(scheme)
        if found is not None or scheme in _entry_points_loaded:
            return found
        _entry_points_loaded.add(scheme)
    for ep in entry_points(group="zarrlayered.stores", name=scheme):
        factory = ep.load()
        logger.debug("loaded store scheme %r from entry point %s", scheme, ep.value)
        register_store(scheme, factory)
        return factory  # type: ignore[no-any-return]
    return None
